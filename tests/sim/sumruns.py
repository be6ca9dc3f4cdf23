#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Add up the summaries of many `sim -q` runs (chunks of one long run).

usage: sumruns.py DIR   (DIR/chunk.FIRST.rcN files, as longrun.sh writes)

Counts add up; "max ..." lines keep the largest figure; a smallest margin
("X ms (N)", N margins measured) keeps the smallest of the chunks that
measured any, and adds up N.  Lines of another shape
(violation reports) are printed as they are, with their chunk.  Exits 1
if any chunk reported a violation or ended with a non-zero status, 2 if
the chunks do not cover one range of seeds without a gap.
"""
import os
import re
import sys

# a figure, not a label such as "7 nodes"
NUM = re.compile(r'\d+(?:\.\d+)?(?![\d.]| nodes)')
MARGIN = re.compile(r' ms \((\d+)\)')


def fmt(v, like):
    if '.' in like:
        return '%.*f' % (len(like.split('.')[1]), v)
    return str(int(v))


def merge(acc, line):
    shape = NUM.sub('#', line)
    nums = NUM.findall(line)
    ends = [m.end() for m in NUM.finditer(line)]
    if shape not in acc:
        acc[shape] = [list(nums), line]
        return
    old = acc[shape][0]
    i = 0
    while i < len(nums):
        margin = MARGIN.match(line, ends[i])
        if margin:
            if int(nums[i + 1]) and (not int(old[i + 1]) or
                                     float(nums[i]) < float(old[i])):
                old[i] = nums[i]
            old[i + 1] = str(int(old[i + 1]) + int(nums[i + 1]))
            i += 2
            continue
        if line.startswith('max'):
            if float(nums[i]) > float(old[i]):
                old[i] = nums[i]
        else:
            old[i] = fmt(float(old[i]) + float(nums[i]), old[i])
        i += 1


def render(shape, nums):
    it = iter(nums)
    return re.sub('#', lambda m: next(it), shape)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    chunks = []
    for name in os.listdir(d):
        m = re.fullmatch(r'chunk\.(\d+)\.rc(\d+)', name)
        if m:
            chunks.append((int(m.group(1)), int(m.group(2)), name))
    if not chunks:
        sys.exit('sumruns: no chunk.* files in %s' % d)
    chunks.sort()
    acc, odd, bad, nseeds = {}, [], 0, 0
    next_seed = chunks[0][0]
    gaps = []
    for first, rc, name in chunks:
        if first != next_seed:
            gaps.append((next_seed, first - 1))
        seeds = 0
        with open(os.path.join(d, name)) as f:
            for line in f:
                line = line.rstrip('\n')
                m = re.match(r'seeds (\d+) ', line)
                if m:
                    seeds = int(m.group(1))
                if re.match(r'[a-z]', line) and NUM.search(line):
                    merge(acc, line)
                elif line:
                    odd.append('%s: %s' % (name, line))
        if rc:
            bad += 1
            odd.append('%s: exit status %d' % (name, rc))
        nseeds += seeds
        next_seed = first + seeds
    print('chunks %d, seeds %d..%d' % (len(chunks), chunks[0][0],
                                       next_seed - 1))
    for shape, (nums, _) in acc.items():
        print(render(shape, nums))
    for line in odd:
        print(line)
    for lo, hi in gaps:
        print('gap: seeds %d..%d not run' % (lo, hi))
    viol = [n for s, (n, _) in acc.items() if s.startswith('violations')]
    if bad or (viol and int(viol[0][0])):
        sys.exit(1)
    if gaps:
        sys.exit(2)


if __name__ == '__main__':
    main()
