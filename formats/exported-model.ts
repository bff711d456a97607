// metadata.json of an exported model (sweeps/<id>/model/): what any program needs to feed the model
// and read its output, without the sweep engine.
import { Params } from '../lib/grid';
import { BackboneSpec, SweepSpec } from '../lib/sweep-spec';

export interface ExportedModelMetadata {
  format: 'tfjs-layers-model';
  /** Relative to this file; its weights are in weights.bin beside it. */
  modelJson: 'model.json';
  /** Output order. */
  classes: string[];
  input: SweepSpec['image'] & {
    layout: 'NHWC float32 RGB';
    mean: [number, number, number];
    std: [number, number, number];
    preprocessing: string;
  };
  output: string;
  backbone: Pick<BackboneSpec, 'name' | 'uri' | 'featureLayer'>;
  trial: { sweepId: string; trialId: string; run: number; params: Params; valAccuracy?: number; testAccuracy?: number };
  /** The split manifest the head was trained and scored on. */
  splitKey: string;
}

export const EVAL_PREPROCESSING =
  'decode (EXIF-rotated, alpha flattened onto the mean colour, sRGB), resize the shorter side to input.resize, ' +
  'centre-crop input.size x input.size, then x = (rgb / 255 - mean) / std per channel';

/** [class, probability] pairs, most probable first. */
export function rankedClasses(classes: readonly string[], probabilities: ArrayLike<number>): Array<[string, number]> {
  return classes.map((c, i): [string, number] => [c, probabilities[i]]).sort((a, b) => b[1] - a[1]);
}
