#!/usr/bin/env bash
# Copies the team's label files (line<TAB>sentiment<TAB>intents, references to
# lines of a text file in ../shared/data, never the texts) into this folder,
# under a header naming the source file and its licence.
# Usage: services/classify/labels/sync.sh [LABELS_DIR=/work/labels]
set -euo pipefail
src=${1:-/work/labels}
here=$(cd "$(dirname "$0")" && pwd)
for f in "$src"/pl_poleval_*.tsv; do
  out="$here/$(basename "$f")"
  {
    echo "# socialcare labels: references to lines of dev/pl/hist_task_01_training_set_clean_only_text.txt"
    echo "# (PolEval 2019 task 6, ptaszynski/cyberbullying-Polish, BSD-3-Clause) in ../shared/data; the texts"
    echo "# are not here. Labelled by the socialcare team following GUIDELINES.md. Format: line<TAB>sentiment<TAB>intents"
    grep -v '^#' "$f" | awk -F'\t' 'NF == 3 && $1 ~ /^[0-9]+$/'
  } >"$out.tmp"
  mv "$out.tmp" "$out"
  echo "$out: $(grep -vc '^#' "$out") labels"
done
