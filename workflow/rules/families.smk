# The two rules of every figure family, generated from the configuration:
#   <family>_simulate   one job per grid point, all trials vectorized inside
#   <family>_summary    run tables -> trial table + summary per experiment,
#                       -> results/claims/<family>.parquet, -> every figure (PNG + PDF)
# The summary is one job, not three: each job pays an interpreter start, imports and
# Snakemake's dispatch (about 0.5 s), while the three steps take a few seconds together;
# rerunning the tables and claims when only a figure changed costs well under a second.
# A family adds no rule code: its package `implicit_reg.<family>` (listed in
# `implicit_reg.families.FAMILIES`), its config section and captions are all the workflow
# needs (README: "Adding an experiment").
# The wildcard `tree` is the results tree (`implicit_reg.workflow.replicates`): empty for
# the configured seed, whose results/ the report reads, or `robustness/seed-<s>/` for a
# replicate of `make robustness`, which the same rules compute with top-level seed s, in
# the same layout under results/robustness/seed-<s>/ (robustness.smk).
# Only the simulations go to a cluster: the summary takes seconds, and runs on the
# submitting node (`localrule`) instead of waiting for a queue and status polls.

import re

for family in FAMILIES:

    rule:
        name:
            f"{family}_simulate"
        input:
            code=simulation_code(family),
            scripts=script_code("simulate.py"),
        output:
            table=f"results/{{tree}}{family}/runs/{{experiment}}/{{point}}.parquet",
            arrays=f"results/{{tree}}{family}/runs/{{experiment}}/{{point}}.npz",
        log:
            f"results/{{tree}}logs/{family}/simulate/{{experiment}}/{{point}}.log",
        benchmark:
            f"results/{{tree}}benchmarks/{family}/simulate/{{experiment}}/{{point}}.tsv"
        wildcard_constraints:
            tree=TREE_PATTERN,
            # Only this configuration's experiments, one path segment each: any other
            # path under results/<family>/runs/ has no rule ("No rule to produce").
            experiment="|".join(map(re.escape, experiments(family))),
            point="[^/]+",
        conda:
            "../envs/run.yaml"
        threads: 1
        resources:
            # From the configuration check's estimates (implicit_reg.workflow.resources),
            # doubling on a retry.
            mem_mb=simulation_resource(family, job_resources.mem_mb),
            runtime=simulation_resource(family, job_resources.runtime_minutes),
        params:
            **job_params(
                family=family, seed=tree_seed_param, point=point_params(family)
            ),
        shell:
            job_command("simulate.py")

    rule:
        name:
            f"{family}_summary"
        input:
            runs=run_tables(family, "{tree}"),
            code=code(
                f"implicit_reg.{family}.experiments",
                f"implicit_reg.{family}.claims",
                f"implicit_reg.{family}.figures",
                "implicit_reg.experiment",
                "implicit_reg.claims",
                "implicit_reg.plotting",
                "implicit_reg.tables",
            ),
            scripts=script_code("summary.py"),
        output:
            tables=family_tables(family, "{tree}"),
            claims=f"results/{{tree}}claims/{family}.parquet",
            png=reported_figures(family, "{tree}"),
            pdf=figure_files(family, "pdf", "{tree}") if config["pdf_figures"] else [],
        log:
            f"results/{{tree}}logs/{family}/summary.log",
        benchmark:
            f"results/{{tree}}benchmarks/{family}/summary.tsv"
        wildcard_constraints:
            tree=TREE_PATTERN,
        localrule: True
        conda:
            "../envs/run.yaml"
        params:
            **job_params(
                family=family,
                experiments=experiments(family),
                provenance=family_config_param(family),
                figures=figure_names(family),
                captioned=sorted(captioned_figures(family)),
                pdf_figures=config["pdf_figures"],
            ),
        shell:
            job_command("summary.py")
