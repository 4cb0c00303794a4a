"""What the language modules share: the ``Language`` base class and what it is handed (``language``), the batch
server that runs many jobs in one sandbox (``batch_server`` with its in-sandbox script ``forkserver``), one
command or many through it (``exec_batch``), helpers of the compiled languages (``compiled``), one setup at a time
per cache (``prepare_lock``) and merged builds: the engine and what it merges per language (``merged``)."""
