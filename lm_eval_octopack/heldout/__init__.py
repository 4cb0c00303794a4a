"""INSTRUCTEVAL's held-out suites (as run for the Flacuna paper) as lm-eval 0.4.13 tasks.

Tasks (all scored ``acc``; YAMLs generated into ``task_yaml/instructeval/`` by :mod:`lm_eval_octopack.taskgen`):

=================================  =====================================================  ==============
name                               what                                                   aggregate
=================================  =====================================================  ==============
``instructeval_mmlu_5shot``        group, 57 ``instructeval_mmlu_5shot_<subject>``         micro (pooled)
``instructeval_mmlu_0shot``        group, 57 ``instructeval_mmlu_0shot_<subject>``         micro (pooled)
``instructeval_bbh_3shot``         group, 27 ``instructeval_bbh_3shot_<task>``             macro
``instructeval_bbh_0shot``         group, 27 ``instructeval_bbh_0shot_<task>``             macro
``instructeval_drop_3shot``        task, filtered DROP validation, seed-0 shots           pooled
``instructeval_crass_3shot``       task, 274 CRASS items, paper shots                     pooled
``instructeval_crass_0shot``       task, 274 CRASS items                                  pooled
``instructeval_hhh``               group, ``instructeval_hhh_{harmless,helpful,...}``      plain mean
``instructeval_{mmlu,bbh,...}``    suite groups (no score of their own)
``instructeval_table{2,3,4}``      Flacuna's Tables 2/3/4 (no score of their own)
``instructeval``                   all three tables
=================================  =====================================================  ==============

Modules: :mod:`.prompts` (prompt strings), :mod:`.scoring` (prefix match, HHH decision),
:mod:`.shots` (drop shots over 2,048 tokens), :mod:`.sources` (where data comes from),
one loader per suite (:mod:`.mmlu`, :mod:`.bbh`, :mod:`.drop`, :mod:`.crass`, :mod:`.hhh`),
:mod:`.hhh_task` (six loglikelihood requests per HHH item; ``lm_eval_octopack.models.hf`` is the HF
backend with the reference's token split), :mod:`.tables` (Flacuna Table 2/3/4 view with published rows).
Nothing here is imported by ``lm_eval_octopack`` itself; YAMLs reach it by ``!function``.
"""
