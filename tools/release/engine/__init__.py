"""The release-step framework: declaring a step (:mod:`.declare`), where it records (:mod:`.context`),
recording runs in the ledger (:mod:`.recording`), the step registry (:mod:`.registry`), running a
step by name (:mod:`.runner`) and each step's flags as a form shows them (:mod:`.forms`).

Step modules themselves stay at ``tools.release.<name>`` (their ``python -m`` paths are public).
Nothing here imports torch.
"""
