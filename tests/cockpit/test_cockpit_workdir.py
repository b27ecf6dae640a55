"""Issue 16: ``geno-lewm-cockpit --workdir`` naming a file is a typed error before the UI starts."""

from __future__ import annotations

from cockpit.app import main


def test_workdir_naming_a_file_is_a_typed_error(tmp_path, capsys) -> None:
    f = tmp_path / "README.md"
    f.write_text("not a folder\n")
    assert main(["--workdir", str(f)]) == 2
    err = capsys.readouterr().err
    assert "error[INPUT.WORKDIR_NOT_A_FOLDER]" in err and "Traceback" not in err and str(tmp_path) not in err
    assert main(["--workdir", str(f / "ws")]) == 2
    assert "WORKDIR_NOT_A_FOLDER" in capsys.readouterr().err
