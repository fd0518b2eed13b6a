"""Write the second judges' reference readers (``eval/weights/second_judge_readers.json``).

``facecraft augment`` asks a second judge to agree only on the classes it can read at all, measured on the data
set's own labelled faces. A class with too few of them there falls back to this table: each second judge's top-k
recall per class on fer-dev's train and val faces (never its test split). Run it again when a second judge or the
default top-k changes::

    .venv/bin/python tools/measure_judge_readers.py ../shared/data/fer-dev
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from facecraft.eval.augment import AugmentConfig, measure_readers
from facecraft.eval.augment_filter import READERS_REFERENCE


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", help="a labelled FER data set with a split (fer-dev)")
    args = parser.parse_args()
    config = AugmentConfig()
    _, report = measure_readers(args.dataset, config)
    table = {
        "about": "top-k recall of each second judge per class on the data set's faces outside its test split; "
        "facecraft augment uses it for classes with too few labelled faces of their own",
        "data": f"{Path(args.dataset).name} (all but test: {sum(report['images'].values())} faces)",
        "top_k": config.filter.second_top_k,
        "recall_top_k": report["recall_top_k"],
        "images": report["images"],
    }
    READERS_REFERENCE.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {READERS_REFERENCE}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
