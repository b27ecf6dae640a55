"""Release versioning: preparing a version (:mod:`.version_bump`: semver check, version bump,
CHANGELOG draft, PR body) and yanking a released model (:mod:`.revocation`: ledger event,
revocation list, CHANGELOG entry). The steps are ``geno-lewm-release prepare`` / ``yank``
(``tools.release.prepare`` / ``tools.release.yank``).
"""
