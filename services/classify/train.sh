#!/usr/bin/env bash
# Retrains the shipped model (services/classify/models/sc-lin-1.model) from
# the public sets in SHARED (../shared/data) and the team's files in the
# repository (labels/*.tsv, train/team_posts.tsv). Same inputs, same seed:
# the same bytes (MODEL.md states the checksum).
# Usage: services/classify/train.sh [SHARED=/work/shared/data] [OUT] [CTL]
#   CTL: socialcarectl (default build/dev/services/ctl/socialcarectl)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
D=${1:-/work/shared/data}
OUT=${2:-$here/models/sc-lin-1.model}
CTL=${3:-$root/build/dev/services/ctl/socialcarectl}
sets=()
for f in "$D"/train/en_semeval/twitter-201*-A.tsv; do sets+=("semeval:$f"); done
sets+=("pol:$D/train/pl_tweets/pol.tsv"
       "complaints:$D/train/intents/complaints_twitter.csv"
       "bitext:$D/train/intents/bitext_customer_support.csv"
       "banking77:$D/train/intents/banking77_train.csv"
       "sms:$D/train/intents/sms_spam.tsv")
for f in "$here"/labels/pl_poleval_*.tsv; do
  sets+=("labels:pl:$f:$D/dev/pl/hist_task_01_training_set_clean_only_text.txt")
done
# the team's care posts are few but of the domain: each counts TEAM_W times
sets+=("tsv@${TEAM_W:-5}:$here/train/team_posts.tsv")
exec "$CTL" train --folds "${FOLDS:-5}" --seed 1 -C "${C:-10}" -o "$OUT" "${sets[@]}"
