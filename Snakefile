# implicit-reg: every figure on implicit regularization, from one command.
#   snakemake --cores 8                          (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml
import sys
from pathlib import Path

from snakemake.utils import min_version

min_version("9.0")

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from implicit_reg.configcheck import check_config_and_fill

# The default config applies only when none is given: `--configfile` replaces it rather
# than being merged into it, so a smaller config never inherits the default's families
# (`--config key=value` still updates whichever file is used).
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


# Finite numbers, schema (types, ranges, unknown keys), defaults, cross-key consistency
# and estimated cost per job, before any job: one line per problem, naming the key.
check_config_and_fill(
    config, workflow.source_path("workflow/schemas/config.schema.yaml")
)


include: "workflow/rules/common.smk"
include: "workflow/rules/families.smk"
include: "workflow/rules/report.smk"


localrules:
    all,


rule all:
    default_target: True
    input:
        report=REPORT,
        claims_check=CLAIMS_CHECK,
