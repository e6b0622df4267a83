# Robustness across seeds (`make robustness SEEDS=K`, i.e. `snakemake robustness --config
# robustness_seeds=K`): the configuration at K independent seeds in one DAG, then per
# claim the passes out of K (src/implicit_reg/workflow/robustness.py).
#
# Replicate r runs at top-level seed `seed + r` (`replicates.replicate_seeds`) through the
# families' own rules (families.smk), whose wildcard `tree` names the results tree:
# replicate 0 is the configured seed, results/ (the report's run, reused as it is), and
# replicate r >= 1 writes the same layout under results/robustness/seed-<seed + r>/. So
# `--cores` and the SLURM profile (the same rule names, groups and resources) spread the
# replicates' simulations like any others, the rerun triggers are those of every run (a
# changed configuration slice reruns the affected jobs of every replicate), and a larger
# K adds the new seeds' jobs only.
from implicit_reg.workflow.provenance import expected


rule robustness_claims:
    input:
        claims=checked_replicates,
        code=code("implicit_reg.workflow.robustness", "implicit_reg.tables")
        + [local(from_workdir(ROBUSTNESS_TEMPLATE))],
        scripts=script_code("robustness.py"),
    output:
        table=ROBUSTNESS_TABLE,
        html=ROBUSTNESS_PAGE,
    log:
        f"{ROBUSTNESS}/logs/robustness_claims.log",
    benchmark:
        f"{ROBUSTNESS}/benchmarks/robustness_claims.tsv"
    localrule: True
    conda:
        "../envs/run.yaml"
    params:
        **job_params(
            seeds=ROBUSTNESS_SEEDS,
            claims={str(seed): replicate_claims(seed) for seed in ROBUSTNESS_SEEDS},
            provenance={family: family_config(family) for family in FAMILIES},
            expected={
                path: expected(family_config(family, seed), seed)
                for seed in ROBUSTNESS_SEEDS
                for family, path in zip(FAMILIES, replicate_claims(seed))
            },
            origin=configuration_files(),
        ),
    shell:
        job_command("robustness.py")


# As `all` does for the report, every file of every replicate is an input of the target,
# so that a deleted one is rebuilt; the report (replicate 0's) links the page.
rule robustness:
    input:
        table=ROBUSTNESS_TABLE,
        html=ROBUSTNESS_PAGE,
        report=REPORT,
        outputs=[path for tree in ROBUSTNESS_TREES for path in every_output(tree)],
    localrule: True
