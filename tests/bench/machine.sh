#!/bin/sh
# One line naming what a benchmark ran on, printed beside its figures: CPU model,
# cores, load, kernel and the commit measured.
top=$(cd "$(dirname "$0")/../.." && pwd)
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r), commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)"
