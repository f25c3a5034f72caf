"""Measured loss data: reading tables and judging the laws on them.

tables      read loss tables (Q, Q^-1 or tan delta against T, as experimentalists have them) and
            split them into loss curves
comparison  the three laws fitted to the same data, the verdict, and the discrimination power
"""
