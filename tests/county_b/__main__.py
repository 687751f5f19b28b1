"""python -m tests.county_b --out DIR --scale 1 --seed 1"""

import argparse

from .generate import generate

parser = argparse.ArgumentParser(prog="python -m tests.county_b", description=__doc__)
parser.add_argument("--out", required=True)
parser.add_argument("--scale", type=float, default=1.0)
parser.add_argument("--seed", type=int, default=1)
args = parser.parse_args()
print(generate(args.out, args.scale, args.seed))
