# The four rules of every figure family, generated from the configuration:
#   <family>_simulate   one job per grid point, all trials vectorized inside
#   <family>_aggregate  run tables -> trial table + summary per experiment
#   <family>_figures    tables -> every figure of the family (PNG + PDF)
#   <family>_claims     tables -> results/claims/<family>.parquet
# A family adds no rule code: its package `implicit_reg.<family>`, its config section,
# schema and captions are all the workflow needs (README: "Adding an experiment").
# Only the simulations go to a cluster: the other three take seconds, and run on the
# submitting node (`localrule`) instead of waiting for a queue and status polls.

for family in FAMILIES:

    rule:
        name:
            f"{family}_simulate"
        input:
            code=simulation_code(family),
        output:
            table=f"results/{family}/runs/{{experiment}}/{{point}}.parquet",
            arrays=f"results/{family}/runs/{{experiment}}/{{point}}.npz",
        log:
            f"results/logs/{family}/simulate/{{experiment}}/{{point}}.log",
        benchmark:
            f"results/benchmarks/{family}/simulate/{{experiment}}/{{point}}.tsv"
        conda:
            ENVIRONMENT
        params:
            family=family,
            seed=config["seed"],
            point=point_params(family),
        script:
            "../scripts/simulate.py"

    rule:
        name:
            f"{family}_aggregate"
        input:
            runs=run_tables(family),
            code=code("implicit_reg.experiment", "implicit_reg.tables"),
        output:
            family_tables(family),
        log:
            f"results/logs/{family}/aggregate.log",
        benchmark:
            f"results/benchmarks/{family}/aggregate.tsv"
        localrule: True
        conda:
            ENVIRONMENT
        params:
            family=family,
            experiments=experiments(family),
            provenance=family_config(family),
        script:
            "../scripts/aggregate.py"

    rule:
        name:
            f"{family}_figures"
        input:
            tables=family_tables(family),
            code=code(f"implicit_reg.{family}.figures", "implicit_reg.plotting"),
        output:
            png=reported_figures(family),
            pdf=figure_files(family, "pdf"),
        log:
            f"results/logs/{family}/figures.log",
        benchmark:
            f"results/benchmarks/{family}/figures.tsv"
        localrule: True
        conda:
            ENVIRONMENT
        params:
            family=family,
            figures=figure_names(family),
            captioned=sorted(captioned_figures(family)),
        script:
            "../scripts/figures.py"

    rule:
        name:
            f"{family}_claims"
        input:
            tables=family_tables(family),
            code=code(
                f"implicit_reg.{family}",
                "implicit_reg.claims",
                "implicit_reg.tables",
                skip=(f"implicit_reg.{family}.figures",),
            ),
        output:
            f"results/claims/{family}.parquet",
        log:
            f"results/logs/{family}/claims.log",
        benchmark:
            f"results/benchmarks/{family}/claims.tsv"
        localrule: True
        conda:
            ENVIRONMENT
        params:
            family=family,
            provenance=family_config(family),
        script:
            "../scripts/claims.py"
