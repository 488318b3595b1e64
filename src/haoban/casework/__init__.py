"""Difficult-matter cases (办不成事 / 营商环境投诉) and the reform list they feed."""
