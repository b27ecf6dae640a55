"""Evaluation: the only place model-quality claims are made, always beside baselines.

Modules, one job each:

- :mod:`.schema`     names and versions (generator markers, benchmark rows, schema version);
- :mod:`.jsonio`     reading JSON / JSONL inputs with typed errors;
- :mod:`.keys`       variant keys and the ``evaluated_variant_keys_sha256`` identity;
- :mod:`.labels`     label loading (JSONL or VCF INFO field);
- :mod:`.scores`     primary / baseline score rows (generator markers, not-scored rows);
- :mod:`.metrics`    AUROC, AUPRC (scikit-learn) and Spearman's rho (scipy);
- :mod:`.bootstrap`  seeded, paired bootstrap confidence intervals;
- :mod:`.config`     the eval config (msgspec Struct) and its effective YAML;
- :mod:`.artifacts`  package-relative artifact identities under an artifact root;
- :mod:`.evaluate`   one benchmark: join, metrics, baselines -> metrics payload;
- :mod:`.findings`   negative findings and conclusions generated from the data;
- :mod:`.aggregate`  ``geno-lewm-eval-all``: many payloads (+ rollout metrics) -> one;
- :mod:`.report`     ``render_report`` / ``check_report`` (pure Markdown render);
- :mod:`.fmt`        fixed number formats shared by conclusions and the report;
- :mod:`.outputs`    payload bytes, in-memory identities, atomic writes;
- :mod:`.pipeline`   ``geno-lewm-eval`` as a function (``EvalRequest`` -> ``run_eval``).

Nothing here imports torch.
"""
