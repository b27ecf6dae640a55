"""Gates and checks over the whole release: gate definitions and states derived from the ledger
(:mod:`.states`), ``geno-lewm-release status`` (:mod:`.status`), ``replay`` (:mod:`.replay`),
the cited issues' cache (:mod:`.issues`), the release invariants (:mod:`.invariants`), the offline
fixture rehearsal (:mod:`.rehearsal`) and the bit-match baseline's model (:mod:`.bit_match_model`).
"""
