# implicit-reg: every figure on implicit regularization, from one command.
#   snakemake --cores 8                          (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml
from snakemake.utils import min_version, validate

min_version("9.0")


# The default config applies only when none is given: `--configfile` replaces it rather
# than being merged into it, so a smaller config never inherits the default's families
# (`--config key=value` still updates whichever file is used).
if not workflow.config_settings.configfiles:

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


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
