"""How far larger networks go on fer-dev: the capacity probe behind the model card's "ceiling" section.

The shipped classifier is held to a CPU budget (retrained in 30 minutes on 2 cores, >= 2,600 images/s at batch 64
on 2 threads), which caps it near the mini-Xception's size. This probe asks what the data itself supports: a
ResNet-18 (CIFAR layout, 48 px, 11M parameters) and a VGG-13 (the FER+ paper's, 64 px) trained from scratch on
fer-dev's train split toward the crowd-vote distributions, scored on val only (test is never exported), and
5-fold out-of-fold probabilities on train, a teacher for distillation. Written for one CUDA GPU (it runs on CPU
too, slowly). Three steps::

    .venv/bin/python tools/fer_capacity_probe.py export --data ../shared/data/fer-dev --out probe/ferdev_trval.npz
    python3 tools/fer_capacity_probe.py train resnet18 --seed 0 --fold 2 --data probe/ferdev_trval.npz \
        --out probe/runs --budget 230              # on the GPU machine; --fold -1: whole train, scored on val
    python3 tools/fer_capacity_probe.py pack --data probe/ferdev_trval.npz --runs probe/runs --out probe/summary

``train`` needs only torch and numpy (the GPU machine's own Python); ``export`` needs facecraft. ``--budget``
re-plans the cosine schedule after the first epoch so that a run fits the seconds given.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import time
from pathlib import Path

import numpy as np

#: Index of contempt in facecraft.rigs.EMOTIONS (kept literal so that ``train`` needs no facecraft install).
CONTEMPT = 1
N_CLASSES = 8
N_FOLDS = 5
FOLD_SEED = 1234


def macro_f1_7(probs: np.ndarray, labels: np.ndarray) -> float:
    """Macro-F1 over the 7 classes shared with mini-Xception (argmax over all 8), as ``facecraft fer eval``."""
    pred = probs.argmax(1)
    scores = []
    for c in range(N_CLASSES):
        if c == CONTEMPT:
            continue
        tp = np.sum((pred == c) & (labels == c))
        fp = np.sum((pred == c) & (labels != c))
        fn = np.sum((pred != c) & (labels == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def folds_of(n: int) -> list[np.ndarray]:
    """The same 5 folds (sorted indices) over ``n`` training faces in every process."""
    return [np.sort(f) for f in np.array_split(np.random.default_rng(FOLD_SEED).permutation(n), N_FOLDS)]


def export(data: str, out: str) -> None:
    """Write fer-dev's train and val crops, soft targets, labels and paths to one ``.npz`` (test stays behind)."""
    from facecraft.eval.datasets import load_dataset

    ds = load_dataset(data)
    tr, va = ds.subset("train"), ds.subset("val")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        x_tr=tr.images,
        t_tr=tr.soft_targets(),
        y_tr=tr.labels,
        p_tr=np.array(tr.paths),
        x_va=va.images,
        y_va=va.labels,
        p_va=np.array(va.paths),
    )
    print(f"{out}: train {len(tr)}, val {len(va)}")


def _mini_xception_module():
    """The project's ``eval/mini_xception.py``, also where facecraft is not installed (the GPU machine): loaded from
    the file, with stand-ins for the two facecraft imports its network classes do not use."""
    try:
        from facecraft.eval import mini_xception

        return mini_xception
    except ImportError:
        import importlib.util
        import sys
        import types

        for name in ("facecraft", "facecraft.rigs", "facecraft.rigs.assets", "facecraft.rigs.errors"):
            sys.modules.setdefault(name, types.ModuleType(name))
        sys.modules["facecraft.rigs.assets"].resolve_asset = None
        for err in ("FileFormatError", "OptionalDependencyError", "ParameterError"):
            setattr(sys.modules["facecraft.rigs.errors"], err, type(err, (Exception,), {}))
        path = Path(__file__).resolve().parent.parent / "eval" / "mini_xception.py"
        spec = importlib.util.spec_from_file_location("probe_mini_xception", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module


def build(arch: str, width: float = 1.0):
    """The network and its input side; ``xception``: the shipped classifier's mini-Xception, ``width`` times wider."""
    import torch.nn as nn
    import torch.nn.functional as F

    if arch == "xception":
        mx = _mini_xception_module()
        widths = tuple(round(w * width) for w in mx.MINI_XCEPTION_WIDTHS)
        stem = round(mx.MINI_XCEPTION_STEM * width)
        return mx.MiniXception(num_classes=N_CLASSES, stem=stem, widths=widths, dropout=0.1), 48
    if arch == "vgg13":

        def block(cin: int, cout: int, k: int) -> list:
            layers: list = []
            for i in range(k):
                layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)]
                layers.append(nn.ReLU(True))
            return layers + [nn.MaxPool2d(2), nn.Dropout(0.25)]

        head = [nn.Flatten(), nn.Linear(256 * 16, 1024), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(1024, 1024)]
        head += [nn.ReLU(True), nn.Dropout(0.5), nn.Linear(1024, N_CLASSES)]
        return nn.Sequential(*block(1, 64, 2), *block(64, 128, 2), *block(128, 256, 3), *block(256, 256, 3), *head), 64

    class Basic(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.c1, self.b1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout)
            self.c2, self.b2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout)
            self.short = None
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
            return F.relu(y + (x if self.short is None else self.short(x)))

    layers: list = [nn.Conv2d(1, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True)]
    cin = 64
    for i, c in enumerate((64, 128, 256, 512)):
        for j in range(2):
            layers.append(Basic(cin, c, 2 if (j == 0 and i > 0) else 1))
            cin = c
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(cin, N_CLASSES)]
    return nn.Sequential(*layers), 48


def train(
    arch: str,
    seed: int,
    fold: int,
    data: str,
    out: str,
    budget: float,
    epochs: int,
    *,
    width: float = 1.0,
    teacher: str | None = None,
    teacher_share: float = 0.0,
) -> dict:
    """Train one network (SGD, or AdamW for the mini-Xception; warm-up + cosine, mixup, flip/affine/light/erasing
    jitter, sqrt class weights). ``teacher``: a ``pack`` output's ``oof.npz``, whose out-of-fold probabilities (of
    its first network) are mixed into the targets at ``teacher_share``."""
    import torch
    import torch.nn.functional as F

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    d = np.load(data)
    n = len(d["y_tr"])
    held = folds_of(n)[fold] if fold >= 0 else np.array([], np.int64)
    keep = np.setdiff1d(np.arange(n), held)
    model, size = build(arch, width)
    model = model.to(dev).to(memory_format=torch.channels_last)
    x_tr = torch.tensor(d["x_tr"], dtype=torch.float32, device=dev).unsqueeze(1) / 255.0
    targets = d["t_tr"]
    if teacher and teacher_share > 0:
        z = np.load(teacher)
        oof = z[sorted(k for k in z.files if k.startswith("oof_"))[0]]
        if list(z["paths"]) != list(d["p_tr"]):
            raise ValueError(f"{teacher}: its faces are not {data}'s training faces")
        targets = (1 - teacher_share) * targets + teacher_share * oof
    t_tr = torch.tensor(targets, dtype=torch.float32, device=dev)
    x_va = torch.tensor(d["x_va"], dtype=torch.float32, device=dev).unsqueeze(1) / 255.0
    counts = np.bincount(d["y_tr"][keep], minlength=N_CLASSES).astype(np.float64)
    class_w = torch.tensor((counts.sum() / (N_CLASSES * np.maximum(counts, 1))) ** 0.5, dtype=torch.float32, device=dev)
    gen = torch.Generator(device=dev).manual_seed(seed)

    def rand(k: int, lo: float, hi: float):
        return lo + (hi - lo) * torch.rand(k, device=dev, generator=gen)

    def resize(x):
        return x if size == 48 else F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)

    def jitter(x):
        k = x.shape[0]
        angle, scale = rand(k, -15, 15) * math.pi / 180, rand(k, 0.85, 1.15)
        flip = torch.where(torch.rand(k, device=dev, generator=gen) < 0.5, -1.0, 1.0)
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        row0 = torch.stack([cos * flip, -sin, rand(k, -0.12, 0.12)], 1)
        row1 = torch.stack([sin * flip, cos, rand(k, -0.12, 0.12)], 1)
        grid = F.affine_grid(torch.stack([row0, row1], 1), (k, 1, size, size), align_corners=False)
        y = F.grid_sample(x, grid, padding_mode="border", align_corners=False)
        y = (y - 0.5) * rand(k, 0.7, 1.3).view(k, 1, 1, 1) + 0.5 + rand(k, -0.2, 0.2).view(k, 1, 1, 1)
        on = torch.rand(k, device=dev, generator=gen) < 0.4  # random erasing
        half = (rand(k, 0.15, 0.4) * size / 2).view(k, 1, 1)
        cx, cy = (rand(k, 0, 1) * size).view(k, 1, 1), (rand(k, 0, 1) * size).view(k, 1, 1)
        ii = torch.arange(size, device=dev)
        box = ((ii.view(1, size, 1) - cy).abs() < half) & ((ii.view(1, 1, size) - cx).abs() < half) & on.view(k, 1, 1)
        return torch.where(box.unsqueeze(1), torch.rand_like(y), y).clamp(0, 1)

    @torch.no_grad()
    def predict(x, flip: bool = True):
        model.eval()
        out = []
        for i in range(0, len(x), 1024):
            b = resize(x[i : i + 1024]).contiguous(memory_format=torch.channels_last)
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
                p = F.softmax(model(b - 0.5).float(), 1)
                if flip:
                    p = (p + F.softmax(model(torch.flip(b, [3]) - 0.5).float(), 1)) / 2
            out.append(p.cpu())
        model.train()
        return torch.cat(out).numpy()

    base_lr = 3e-3 if arch == "xception" else 0.05
    if arch == "xception":
        opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=0.05)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=base_lr, momentum=0.9, weight_decay=5e-4, nesterov=True)
    batch = 128
    keep_t = torch.tensor(keep, device=dev)
    steps = len(keep) // batch
    start, step, epoch, history = time.time(), 0, 0, []
    while epoch < epochs:
        order = keep_t[torch.randperm(len(keep_t), device=dev, generator=gen)]
        for b in range(steps):
            j = order[b * batch : (b + 1) * batch]
            x, t = jitter(resize(x_tr[j])), t_tr[j]
            lam = float(rng.beta(0.2, 0.2))
            lam = max(lam, 1 - lam)
            r = torch.randperm(len(j), device=dev, generator=gen)
            x, t = lam * x + (1 - lam) * x[r], lam * t + (1 - lam) * t[r]
            warm = min(1.0, (step + 1) / (3 * steps))
            for group in opt.param_groups:
                group["lr"] = base_lr * warm * 0.5 * (1 + math.cos(math.pi * min(step / (epochs * steps), 1.0)))
            with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
                logits = model((x - 0.5).contiguous(memory_format=torch.channels_last)).float()
            w = (t * class_w).sum(1)
            loss = (-(t * F.log_softmax(logits, 1)).sum(1) * w).sum() / w.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
        epoch += 1
        if epoch == 1:
            epochs = max(2, min(epochs, int(budget / (time.time() - start))))
        if epoch % 10 == 0 or epoch == epochs:
            pv = predict(x_va)
            history.append([epoch, macro_f1_7(pv, d["y_va"]), float((pv.argmax(1) == d["y_va"]).mean())])
            print(arch, seed, fold, history[-1], f"{time.time() - start:.0f}s", flush=True)
    pv, pv_plain = predict(x_va), predict(x_va, flip=False)
    if arch == "xception":
        arch = f"xception{width:g}" + (f"d{teacher_share:g}" if teacher and teacher_share > 0 else "")
    tag = f"{arch}_{seed}_{fold}"
    result = {"arch": arch, "seed": seed, "fold": fold, "epochs": epochs, "seconds": time.time() - start,
              "device": dev, "val_f1_7": macro_f1_7(pv, d["y_va"]),
              "val_acc": float((pv.argmax(1) == d["y_va"]).mean()), "history": history,
              "val_f1_7_no_flip": macro_f1_7(pv_plain, d["y_va"]),
              "parameters": sum(p.numel() for p in model.parameters())}  # fmt: skip
    Path(out).mkdir(parents=True, exist_ok=True)
    np.save(f"{out}/val_{tag}.npy", pv.astype(np.float32))
    if fold >= 0:
        np.save(f"{out}/oof_{tag}.npy", predict(x_tr[torch.tensor(held, device=dev)]).astype(np.float32))
    Path(f"{out}/res_{tag}.json").write_text(json.dumps(result))
    return result


def pack(data: str, runs: str, out: str) -> dict:
    """Val macro-F1 of each run, of whole-train ensembles and of the fold ensembles; out-of-fold train probabilities."""
    d = np.load(data)
    y_va, n = d["y_va"], len(d["y_tr"])
    folds = folds_of(n)
    results = [json.loads(Path(f).read_text()) for f in sorted(glob.glob(f"{runs}/res_*.json"))]
    summary: dict = {"runs": results}
    arrays: dict = {}
    for arch in sorted({r["arch"] for r in results}):
        whole = [np.load(f) for f in sorted(glob.glob(f"{runs}/val_{arch}_*_-1.npy"))]
        if whole:
            summary[f"{arch}_whole_train_ensemble_val_f1_7"] = macro_f1_7(np.mean(whole, 0), y_va)
        seeds = sorted({r["seed"] for r in results if r["arch"] == arch and r["fold"] >= 0})
        complete = [s for s in seeds if all(Path(f"{runs}/oof_{arch}_{s}_{k}.npy").is_file() for k in range(N_FOLDS))]
        if complete:
            oof = np.zeros((n, N_CLASSES), np.float32)
            for s in complete:
                for k in range(N_FOLDS):
                    oof[folds[k]] += np.load(f"{runs}/oof_{arch}_{s}_{k}.npy") / len(complete)
            vals = [np.load(f"{runs}/val_{arch}_{s}_{k}.npy") for s in complete for k in range(N_FOLDS)]
            arrays[f"oof_{arch}"] = oof
            summary[f"{arch}_fold_ensemble"] = {
                "seeds": complete,
                "members": len(vals),
                "val_f1_7": macro_f1_7(np.mean(vals, 0), y_va),
                "val_acc": float((np.mean(vals, 0).argmax(1) == y_va).mean()),
                "oof_train_acc": float((oof.argmax(1) == d["y_tr"]).mean()),
                "oof_train_f1_7": macro_f1_7(oof, d["y_tr"]),
            }
    Path(out).mkdir(parents=True, exist_ok=True)
    np.savez_compressed(f"{out}/oof.npz", paths=d["p_tr"], **arrays)
    Path(f"{out}/summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    e = sub.add_parser("export")
    e.add_argument("--data", required=True)
    e.add_argument("--out", required=True)
    t = sub.add_parser("train")
    t.add_argument("arch", choices=("resnet18", "vgg13", "xception"))
    t.add_argument("--width", type=float, default=1.0, help="xception: channel multiplier")
    t.add_argument("--teacher", help="a pack step's oof.npz: distil its out-of-fold probabilities")
    t.add_argument("--teacher-share", type=float, default=0.5)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--fold", type=int, default=-1, help="0-4: leave this fold out; -1: whole train")
    t.add_argument("--data", required=True)
    t.add_argument("--out", required=True)
    t.add_argument("--budget", type=float, default=300.0, help="seconds")
    t.add_argument("--epochs", type=int, default=120)
    p = sub.add_parser("pack")
    p.add_argument("--data", required=True)
    p.add_argument("--runs", required=True)
    p.add_argument("--out", required=True)
    a = parser.parse_args(argv)
    if a.step == "export":
        export(a.data, a.out)
    elif a.step == "train":
        result = train(a.arch, a.seed, a.fold, a.data, a.out, a.budget, a.epochs, width=a.width,
                       teacher=a.teacher, teacher_share=a.teacher_share)  # fmt: skip
        print(json.dumps(result))
    else:
        summary = pack(a.data, a.runs, a.out)
        print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=1))


if __name__ == "__main__":
    main()
