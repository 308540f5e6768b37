"""The synthetic demo county: a gazetteer, a deterministic petition history and sample import files.

Everything here is invented (演示数据): names, ID numbers, phones, villages and texts are generated, never
copied.
"""
