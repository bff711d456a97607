// The images a classifier got wrong, named so a person can open them: split rows joined with the
// data set's source paths. Most confident mistakes first: those are the ones worth a look (often a
// wrong label in the data rather than a weak model).
import { Sample } from './manifest';

export interface MisclassifiedImage {
  /** Row in the split, i.e. in evaluation-<split>.json's predictions and labels. */
  row: number;
  sha256: string;
  /** Which oversampled copy of the image the row is. */
  copy: number;
  /** Path inside the data source, as ingested. */
  source: string;
  trueClass: string;
  predictedClass: string;
  /** Probabilities the model gave the predicted and the true class. */
  predictedProbability: number;
  trueProbability: number;
}

/**
 * `rows` are the split's samples in feature-row order, `logProbs` row-major [rows x classes],
 * `sources` maps sha256 to the source path.
 */
export function misclassifiedImages(
  rows: readonly Sample[], predictions: ArrayLike<number>, logProbs: ArrayLike<number>, classes: readonly string[], sources: ReadonlyMap<string, string>,
): MisclassifiedImage[] {
  if (rows.length !== predictions.length || logProbs.length !== rows.length * classes.length) {
    throw new Error(`${rows.length} split rows but ${predictions.length} predictions and ${logProbs.length / classes.length} rows of probabilities`);
  }
  const out: MisclassifiedImage[] = [];
  rows.forEach((sample, row) => {
    const predicted = predictions[row];
    if (predicted === sample.label) return;
    const source = sources.get(sample.sha256);
    if (source === undefined) throw new Error(`image ${sample.sha256} of split row ${row} is not in the data set manifest`);
    out.push({
      row,
      sha256: sample.sha256,
      copy: sample.copy,
      source,
      trueClass: classes[sample.label],
      predictedClass: classes[predicted],
      predictedProbability: Math.exp(logProbs[row * classes.length + predicted]),
      trueProbability: Math.exp(logProbs[row * classes.length + sample.label]),
    });
  });
  return out.sort((a, b) => b.predictedProbability - a.predictedProbability || a.row - b.row);
}
