"""The image encoder under torch and under ONNX Runtime: seconds per slice and how far apart the
embeddings are, on real CT slices. Run: .venv/bin/python bench/encoder_runtime.py [--repeats 7]

Both runtimes get the same prepared slices of ../shared/data/ct/patient_a (batch 1, fp32, the
threads torch has). Prints the median, min and max per runtime, the ratio of medians, and the
largest absolute difference between the embeddings relative to their range. Where the CPU computes
bf16 natively (AVX512-BF16 / AMX), torch under bf16 autocast on channels-last input (as the engine
would run it) is timed too, with the lowest cosine similarity of its embeddings to fp32's.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--data", default=None)
    args = parser.parse_args()
    from medsee_cli.io import load_volume
    from medsee_cli.io.data_root import data_root
    from medsee_cli.engine.device import cpu_has_native_bf16
    from medsee_cli.model.grounding import GroundingModel
    from medsee_cli.model.preprocess import image_tensor, to_uint8, window_for

    root = data_root(args.data)
    if root is None:
        raise SystemExit("the shared data folder was not found (give --data or set MEDSEE_DATA)")
    data = np.asarray(load_volume(root / "ct" / "patient_a" / "ct.nii.gz").array(), dtype=np.float32)
    planes = [data[:, :, k] for k in np.linspace(5, data.shape[2] - 5, args.repeats).astype(int)]
    window = window_for("CT", np.stack(planes))
    slices = [image_tensor(to_uint8(p, window), 256)[0] for p in planes]
    model = GroundingModel.load("medsee-grounding-v1", runtime="onnx")
    onnx = model._onnx
    assert onnx is not None
    times: dict[str, list[float]] = {"torch": [], "onnx": []}
    bf16 = cpu_has_native_bf16()
    if bf16:
        times["bf16"] = []
    worst, lowest_cosine = 0.0, 1.0
    with torch.inference_mode():
        model.base.image_encoder(slices[0]), onnx(slices[0])  # warm both up
        if bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                model.base.image_encoder(slices[0].contiguous(memory_format=torch.channels_last))
        for image in slices:
            started = time.perf_counter()
            reference = model.base.image_encoder(image)
            times["torch"].append(time.perf_counter() - started)
            started = time.perf_counter()
            got = onnx(image)
            times["onnx"].append(time.perf_counter() - started)
            worst = max(worst, float((got - reference).abs().max() / reference.abs().max()))
            if bf16:
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    started = time.perf_counter()
                    got = model.base.image_encoder(image.contiguous(memory_format=torch.channels_last)).float()
                    times["bf16"].append(time.perf_counter() - started)
                lowest_cosine = min(lowest_cosine, float(torch.nn.functional.cosine_similarity(
                    got.flatten(), reference.flatten(), dim=0)))
    print(f"threads {torch.get_num_threads()}, {len(slices)} real CT slices, batch 1, fp32")
    for name, values in times.items():
        print(f"{name:6s} median {statistics.median(values):.3f} s/slice (min {min(values):.3f}, max {max(values):.3f})")
    ratio = statistics.median(times["torch"]) / statistics.median(times["onnx"])
    print(f"torch / onnx (medians): {ratio:.2f}x; largest embedding difference {worst:.1e} of the range")
    if bf16:
        ratio = statistics.median(times["bf16"]) / statistics.median(times["onnx"])
        print(f"bf16 / onnx (medians): {ratio:.2f}x; lowest cosine of bf16 to fp32 embeddings {lowest_cosine:.4f}")
    else:
        print("this CPU does not compute bf16 natively: torch bf16 not timed (emulated, many times slower)")


if __name__ == "__main__":
    main()
