"""Edits (validation, length rule) and reference windows (clamping/padding rule)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geno_lewm.edits import EditSpec, apply_edit
from geno_lewm.windows import open_fasta, reference_window

W = "ACGTACGTTTGGCCAAACGT"


def test_edit_kinds_from_vcf_and_locus():
    assert EditSpec.from_vcf(100, 106, "a", "g") == EditSpec(kind="snv", offset=5, ref="A", alt="G")
    ins = EditSpec.from_vcf(100, 106, "C", "CTT")
    dele = EditSpec.from_vcf(100, 106, "CGT", "C")
    assert (ins.kind, ins.locus, dele.kind, dele.locus) == ("ins", 6, "del", 6)
    assert EditSpec.from_vcf(0, 1, "AC", "GT").kind == "mnv"
    with pytest.raises(Exception) as exc:
        EditSpec.from_vcf(0, 1, "AC", "G")
    assert exc.value.code == "INPUT.UNSUPPORTED_EDIT"


def test_wrong_ref_is_a_typed_input_error():
    with pytest.raises(Exception) as exc:
        apply_edit(W, EditSpec(kind="snv", offset=0, ref="C", alt="T"))
    assert exc.value.code == "INPUT.REF_MISMATCH"
    with pytest.raises(Exception) as exc:
        apply_edit(W, EditSpec(kind="snv", offset=len(W), ref="A", alt="T"))
    assert exc.value.code == "INPUT.EDIT_OUT_OF_WINDOW"
    with pytest.raises(Exception) as exc:
        apply_edit(W, EditSpec(kind="ins", offset=0, ref="A", alt="T"))
    assert exc.value.code == "INPUT.EDIT_KIND"


def test_indels_keep_the_window_length_by_the_documented_rule():
    ins = apply_edit(W, EditSpec(kind="ins", offset=3, ref="T", alt="TGG"))
    assert ins == (W[:4] + "GG" + W[4:])[: len(W)]
    dele = apply_edit(W, EditSpec(kind="del", offset=3, ref="TAC", alt="T"), right_flank="CCA")
    assert dele == W[:4] + W[6:] + "CC"
    short_flank = apply_edit(W, EditSpec(kind="del", offset=3, ref="TAC", alt="T"))
    assert short_flank.endswith("NN") and len(short_flank) == len(W)
    mnv = apply_edit(W, EditSpec(kind="mnv", offset=0, ref="AC", alt="GG"))
    assert mnv == "GG" + W[2:]


@settings(max_examples=60, deadline=None)
@given(off=st.integers(0, len(W) - 4), n=st.integers(1, 3), ins=st.booleans(), bases=st.text("ACGT", min_size=3, max_size=3))
def test_edit_property_length_and_prefix(off, n, ins, bases):
    ref, alt = (W[off], W[off] + bases[:n]) if ins else (W[off : off + n + 1], W[off])
    e = EditSpec.from_vcf(0, off + 1, ref, alt)
    out = apply_edit(W, e, right_flank="GATTACA")
    assert len(out) == len(W)
    assert out[: e.locus] == W[: e.locus]  # everything before the locus is untouched


def test_reference_window_clamps_at_contig_ends_and_pads_short_contigs(tmp_path):
    from geno_lewm.resources import example_path

    fa = open_fasta(example_path("rCRS_chrM.fa"), index_dir=tmp_path / "idx")
    length = fa.get_reference_length("chrM")
    mid = reference_window(fa, "chrM", 5000, 600)
    assert (mid.start0, mid.width, mid.pad_left) == (4700, 600, 0)
    assert mid.seq[mid.offset_of(5000)] == fa.fetch("chrM", 5000, 5001)
    left = reference_window(fa, "chrM", 10, 600)
    right = reference_window(fa, "chrM", length - 1, 600)
    assert left.start0 == 0 and right.start0 == length - 600 and "N" not in left.seq + right.seq
    short = tmp_path / "short.fa"
    short.write_text(">c1\nACGTACGTAC\n")
    win = reference_window(open_fasta(short), "c1", 4, 16)
    assert (win.pad_left, win.pad_right, win.seq) == (3, 3, "NNNACGTACGTACNNN")
    assert win.seq[win.offset_of(4)] == "A"
    with pytest.raises(Exception) as exc:
        reference_window(fa, "MT", 10, 600)
    assert exc.value.code == "INPUT.UNKNOWN_CONTIG"


def test_fasta_index_goes_to_index_dir_without_symlink_or_file_beside_the_fasta(tmp_path):
    import shutil

    from geno_lewm.resources import example_path

    pkg = tmp_path / "dataset" / "reference"
    pkg.mkdir(parents=True)
    src = pkg / "rCRS_chrM.fa"
    shutil.copyfile(example_path("rCRS_chrM.fa"), src)
    idx = tmp_path / "cache" / "fasta_index"
    fa = open_fasta(src, index_dir=idx)
    assert fa.fetch("chrM", 0, 10) == "GATCACAGGT"
    assert sorted(p.name for p in pkg.iterdir()) == ["rCRS_chrM.fa"]  # nothing written into the package
    assert [p.name for p in idx.iterdir()] == ["rCRS_chrM.fa.fai"] and not any(p.is_symlink() for p in idx.iterdir())
    again = open_fasta(src, index_dir=idx)  # a fresh index is reused
    assert again.get_reference_length("chrM") == 16569


def test_trained_run_holds_no_symlink(trained_run):
    assert not [p for p in trained_run.rglob("*") if p.is_symlink()]
    assert not (trained_run / ".index").exists()
