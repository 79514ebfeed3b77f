#!/bin/sh
# The whole pipeline on the shipped demo corpus (no network, no ../shared needed).
# Writes the workspace to exports/demo/review.db and outputs to exports/.
set -eu
REVIEW=${REVIEW:-review}
DB=exports/demo/review.db
CORPUS=corpora/sadc-smart-cities
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
rm -rf exports/demo "$DB.files"
mkdir -p exports/demo

step() { printf '\n== %s\n' "$*"; }

step "1. Create the workspace from the protocol"
$REVIEW protocol check protocols/sadc-smart-cities.toml
$REVIEW init --protocol protocols/sadc-smart-cities.toml --db "$DB"

step "2. Import academic records (databases arm)"
$REVIEW import "$CORPUS/academic.jsonl" --source "Academic records (demo)" --arm databases --db "$DB"

step "3. Add gray literature: 176 saved UNDP web pages (other methods arm)"
$REVIEW add-web "$CORPUS/gray/undp" --source "UNDP Accelerator Labs" --db "$DB"

step "4. Search log (PRISMA-S)"
$REVIEW searches --db "$DB"

step "5. Remove duplicates"
$REVIEW dedup --db "$DB"

step "6. Themes and regions"
$REVIEW themes --stage all --seed 42 -o exports/themes --db "$DB"

step "7. Suggest codes (challenges, city, countries) with evidence, then the regional synthesis"
$REVIEW suggest --db "$DB"
$REVIEW codes --format csv -o exports/codes.csv --db "$DB"
$REVIEW synthesis -o exports/synthesis --db "$DB"

step "8. PRISMA 2020 flow diagram"
for ext in svg pdf png csv; do
  $REVIEW prisma -o "exports/prisma.$ext" --db "$DB"
done
$REVIEW prisma --check --db "$DB"

step "9. Workspace summary"
$REVIEW status --db "$DB"
printf '\nWorkspace: %s\nOutputs:   exports/prisma.{svg,pdf,png,csv}, exports/themes/, exports/codes.csv, exports/synthesis/\n' "$DB"
printf 'Next: screen it with  %s screen --db %s\n' "$REVIEW" "$DB"
printf '      code it with    %s code --reviewer NAME --db %s\n' "$REVIEW" "$DB"
