# `snakemake` run from the repository root reads this file: the workflow is
# workflow/Snakefile (which the workflow catalog and `module` users name), included here
# so that its relative paths start from workflow/ whichever of the two Snakemake was given.
include: "workflow/Snakefile"
