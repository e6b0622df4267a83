# Claims of every family -> the HTML report, the claims page of `snakemake --report`
# -> the strict-claims check. All light: they run on the submitting node on a cluster.
from implicit_reg.workflow.provenance import (
    expected,
    report_requested,
    stale_message,
    stale_tables,
)


rule report:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        figures=[png for family in FAMILIES for png in figure_files(family, "png")],
        captions=[
            local(from_workdir(CAPTIONS / family / f"{name}.rst"))
            for family in FAMILIES
            for name in figure_names(family)
        ],
        tables=trial_tables(),
        science=local(from_workdir(SCIENCE)),
        benchmarks=[benchmark for _, benchmark, _ in job_records()],
        logs=[log for _, _, log in job_records()],
        code=code("implicit_reg.workflow.report", "implicit_reg.tables")
        + [local(from_workdir(TEMPLATE))],
        scripts=script_code("report.py"),
    output:
        html=REPORT,
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    localrule: True
    conda:
        "../envs/run.yaml"
    params:
        **job_params(
            config=canonical(config),
            configfiles=configuration_files(),
            families=FAMILIES,
            provenance={family: family_config(family) for family in FAMILIES},
            job_rules=[rule for rule, _, _ in job_records()],
            skipped=skipped_figures(),
            rule_edges=lambda wildcards: rule_edges(),
        ),
    shell:
        job_command("report.py")


rule claims_table:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        code=code("implicit_reg.workflow.report", "implicit_reg.tables"),
        scripts=script_code("claims_table.py"),
    output:
        page=report_flag(
            CLAIMS_TABLE,
            caption=caption_file(CAPTIONS / "claims.rst"),
            category="Claims and checks",
        ),
    log:
        "results/logs/claims_table.log",
    localrule: True
    conda:
        "../envs/run.yaml"
    params:
        **job_params(families=FAMILIES),
    shell:
        job_command("claims_table.py")


rule claims_check:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        report=REPORT,
        scripts=script_code("claims_check.py"),
    output:
        tsv=CLAIMS_CHECK,
    log:
        "results/logs/claims_check.log",
    localrule: True
    conda:
        "../envs/run.yaml"
    params:
        **job_params(strict=config["strict_claims"]),
    shell:
        job_command("claims_check.py")


# `snakemake --report` packs the results on disk: say so when they were made with another
# configuration than this one (each table stores its configuration slice).
if report_requested(sys.argv):
    stale = stale_tables(
        {
            table: expected(family_config(family), config["seed"])
            for family in FAMILIES
            for table in [*family_tables(family), f"results/claims/{family}.parquet"]
        }
    )
    if stale:
        print(stale_message(stale), file=sys.stderr)
