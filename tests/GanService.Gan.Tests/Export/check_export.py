"""Runs the checks each case folder lists against its exported gan_generator.py; prints {check: max |difference|}.

Each folder holds an unzipped export, inputs.safetensors (inputs and the service's outputs) and checks.json: a
forward call on named inputs, or a seeded sample(), and the name of the output it must reproduce. Each export
must also go to ONNX as docs/export.md says.
"""

import importlib.util
import io
import json
import os
import sys

import torch


def onnx_exports(g):
    """docs/export.md's torch.onnx.export call, in memory: 0 where it writes a model."""
    config = g.config
    if config["latent_size"] is None:
        inputs = (torch.zeros(1, config["channels"], config["image_size"], config["image_size"]),)
    else:
        inputs = (torch.randn(1, config["latent_size"]),)
        if config["classes"]:
            inputs += (torch.zeros(1, dtype=torch.int64),)
    buffer = io.BytesIO()
    torch.onnx.export(g, inputs, buffer, dynamic_axes={name: {0: "n"} for name in ["input", "output"]},
                      input_names=["input"], output_names=["output"])
    return 0.0 if buffer.tell() > 0 else 1.0


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
    results[f"{os.path.basename(folder)}/onnx"] = onnx_exports(module.load(folder))
print(json.dumps(results))
