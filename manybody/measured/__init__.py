"""Measured data: loss tables and the laws judged on them; velocity shifts and their slopes.

tables      read loss tables (Q, Q^-1 or tan delta against T, as experimentalists have them) and
            split them into loss curves
comparison  the three laws fitted to the same data, the verdict, and the discrimination power
velocity    read delta v/v (or df/f) tables; the figure of their slope fit
"""
