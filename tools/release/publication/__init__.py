"""Shared logic of the publication steps (``hub_release``, ``hub_publish``, ``release_candidate``,
``clean_machine_demo``, ``publication_report``, ``publication_assets``): the publication decision
(:mod:`.decision`), the Hub upload plan (:mod:`.hub_plan`) and the uploads (:mod:`.hub_upload`),
the clean-machine replay (:mod:`.clean_machine`), targets and public URLs, readiness rows with
issue refs, verified downloads, public reports. Nothing here imports torch.
"""
