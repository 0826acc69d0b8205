"""Runs the checks each case folder lists against its exported gan_generator.py; prints {check: max |difference|}.

Each folder holds an unzipped export, inputs.safetensors (inputs and the service's outputs) and checks.json: a
forward call on named inputs, or a seeded sample(), and the name of the output it must reproduce.
"""

import importlib.util
import json
import os
import sys

import torch

results = {}
for index, folder in enumerate(sys.argv[1:]):
    spec = importlib.util.spec_from_file_location(f"export_{index}", os.path.join(folder, "gan_generator.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tensors = module.read_safetensors(os.path.join(folder, "inputs.safetensors"))
    with open(os.path.join(folder, "checks.json")) as f:
        checks = json.load(f)
    for check in checks:
        g = module.load(folder, weights=check.get("weights"), direction=check.get("direction", "AtoB"))
        kwargs = dict(check.get("kwargs", {}))
        with torch.no_grad():
            if check["call"] == "sample":
                output = g.sample(**kwargs)
            else:
                if "noise" in check:
                    kwargs["noise"] = [tensors[name] for name in check["noise"]]
                output = g(*[tensors[name] for name in check["inputs"]], **kwargs)
        expected = tensors[check["expected"]]
        if output.shape != expected.shape:
            raise AssertionError(f"{check['name']}: shape {list(output.shape)}, expected {list(expected.shape)}")
        results[f"{os.path.basename(folder)}/{check['name']}"] = (output - expected).abs().max().item()
print(json.dumps(results))
