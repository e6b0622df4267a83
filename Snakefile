# implicit-reg: every figure on implicit regularization, from one command.
#   snakemake --cores 8                          (config/config.yaml)
#   snakemake --cores 2 --configfile config/smoke.yaml
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/families.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        report=REPORT,
        claims_check=CLAIMS_CHECK,
    default_target: True
