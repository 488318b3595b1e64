"""The demo city (Hengyang, 衡阳市): its districts, departments, catalogue, accounts and orders.

Place names are real; every person in the demo is invented.
"""
