"""The gate graph is checked by one function, for the gates file and for the ledger event alike."""

from __future__ import annotations

import pytest

from ledger.errors import ConfigError
from ledger.events import check_gate_graph, make_event
from tools.release.gate.states import load_gates


@pytest.mark.parametrize(
    ("needs", "names", "message"),
    [
        ({"a": [], "b": ["a"]}, ["a", "b", "a"], "duplicate gate names"),
        ({"a": ["zzz"]}, ["a"], "needs unknown gate 'zzz'"),
        ({"a": ["b"], "b": ["a"]}, ["a", "b"], "cycle through"),
    ],
)
def test_bad_graphs_are_refused(needs, names, message):
    with pytest.raises(ValueError, match=message):
        check_gate_graph(needs, names)


def test_good_graph_passes():
    check_gate_graph({"a": [], "b": ["a"], "c": ["a", "b"]}, ["a", "b", "c"])


def test_gates_file_with_a_cycle_is_a_config_error(tmp_path):
    path = tmp_path / "gates.toml"
    path.write_text('schema_version = "1.0.0"\n[[gate]]\nname = "a"\nneeds = ["b"]\nsteps = ["s"]\n[[gate]]\nname = "b"\nneeds = ["a"]\nsteps = ["t"]\n')
    with pytest.raises(ConfigError, match="cycle through"):
        load_gates(path)


def test_gates_defined_event_refuses_a_cycle():
    with pytest.raises(Exception, match="cycle through"):
        make_event("gates_defined", {"gates": [{"name": "a", "needs": ["b"]}, {"name": "b", "needs": ["a"]}]})
