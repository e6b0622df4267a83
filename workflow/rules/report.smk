# Claims of every family -> the HTML report -> the strict-claims check.


localrules:
    claims_check,


rule report:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        figures=[png for family in FAMILIES for png in figure_files(family, "png")],
        captions=[
            str(CAPTIONS / family / f"{name}.rst")
            for family in FAMILIES
            for name in figure_names(family)
        ],
        tables=trial_tables(),
        code=code("implicit_reg.report", "implicit_reg.tables"),
    output:
        REPORT,
    log:
        "results/logs/report.log",
    benchmark:
        "results/benchmarks/report.tsv"
    conda:
        ENVIRONMENT
    params:
        config=canonical(config),
        jobs=job_records(),
        skipped=skipped_figures(),
    script:
        "../scripts/report.py"


rule claims_check:
    input:
        claims=expand("results/claims/{family}.parquet", family=FAMILIES),
        report=REPORT,
    output:
        CLAIMS_CHECK,
    log:
        "results/logs/claims_check.log",
    conda:
        ENVIRONMENT
    params:
        strict=config["strict_claims"],
    script:
        "../scripts/claims_check.py"
