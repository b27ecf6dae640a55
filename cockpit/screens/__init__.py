"""The cockpit's screens: Release, Step, Rehearse, Ledger (+ event detail), SQL, Demo and Help."""
