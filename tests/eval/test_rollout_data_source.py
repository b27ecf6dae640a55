"""A rollout track run on synthesized genotypes is named as such in the findings."""

from __future__ import annotations

from geno_lewm.eval.config import load_eval_config
from geno_lewm.eval.findings import negative_findings
from geno_lewm.rollout import SYNTHETIC_GENOTYPES_HEADER, genotype_source

_VCF = """##fileformat=VCFv4.2
##contig=<ID=chrM,length=16569>
{extra}##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1
chrM\t100\t.\tA\tG\t.\t.\t.\tGT\t0|1
"""


def test_genotype_source_reads_the_synthetic_marker(tmp_path):
    real = tmp_path / "real.vcf"
    real.write_text(_VCF.format(extra=""))
    fake = tmp_path / "fake.vcf"
    fake.write_text(_VCF.format(extra=f"##{SYNTHETIC_GENOTYPES_HEADER}=seeded random\n"))
    assert genotype_source(real) == "vcf_genotypes"
    assert genotype_source(fake) == "synthetic_genotypes"


def _bench(source):
    return {
        "benchmark": "rollout_phased_haplotype",
        "split": "eval",
        "track": "phased_haplotype",
        "metric_mode": "rollout",
        "n": 500,
        "label_source": source,
        "stand_in": False,
        "model_ids": ["m"],
    }


def test_synthetic_genotypes_become_a_negative_finding():
    config = load_eval_config()
    synthetic = negative_findings([_bench("synthetic_genotypes")], [], config)
    real = negative_findings([_bench("vcf_genotypes")], [], config)
    assert any("synthesized phased genotypes" in f for f in synthetic)
    assert not any("synthesized phased genotypes" in f for f in real)
