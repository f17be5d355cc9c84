"""The plan: its model, how it is read and checked, unit names, grade bands.

``load_plan`` reads a plan workbook once and checks it (``check_plan`` returns
every fault instead of raising); the model in :mod:`.model` is plain data.
"""
from .grades import GradeBand, grade_for
from .load import INFO_SHEET, SHEETS, check_plan, load_plan
from .model import DEFAULT_NOT_APPLICABLE, STATUS_LIST, Dimension, Item, Plan, PlanInfo
from .units import Unit, UnitDirectory, split_names

__all__ = ["DEFAULT_NOT_APPLICABLE", "INFO_SHEET", "SHEETS", "STATUS_LIST", "Dimension",
           "GradeBand", "Item", "Plan", "PlanInfo", "Unit", "UnitDirectory", "check_plan",
           "grade_for", "load_plan", "split_names"]
