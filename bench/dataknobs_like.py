"""The reference workflow (bench/reference/reference.toml + ref.lua) as dataknobs_fsm's
SimpleFSM runs a record, in pure Python over python3-transitions (dataknobs_fsm itself is
not packaged for Debian). What it does per record follows dataknobs' design as its plan
describes it (COPY data mode, validation and transform function objects, state instances,
an execution context per record):

- an ExecutionContext per record: data mode, current state, the path, the network stack,
  the state instances entered;
- COPY mode: the data is deep-copied on every state entry (CopyModeHandler), and the
  state's functions work on that copy, committed when the state succeeds;
- a StateInstance per state entered: a unique id (uuid4), its data, status, and the arc
  executions out of it with their timestamps;
- validators and transforms are function objects called per state (IValidationFunction
  returns a result object with the error; ITransformFunction returns the new data), and
  arc pre-tests choose the next state; transitions dispatches the arcs;
- the result is a dict: success, final_state, data, path, error.

No sleeping, logging or I/O: only the work above. bench/python_latency.py times it next
to statenet; docs/performance.md says what each side does.
"""

import copy
import re
import time
import uuid

from transitions import Machine

VARS = {"tax_rate": 0.2, "big_amount": 500}
EMAIL = re.compile(r"^[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[A-Za-z]+$")  # ref.lua's Lua pattern


class ValidationResult:
    __slots__ = ("valid", "error")

    def __init__(self, valid, error=None):
        self.valid, self.error = valid, error


class Validator:
    """IValidationFunction: validate(data, context) -> ValidationResult."""

    def __init__(self, name, check, message):
        self.name, self.check, self.message = name, check, message

    def validate(self, data, context):
        return ValidationResult(True) if self.check(data, context) else ValidationResult(False, self.message)


class Transform:
    """ITransformFunction: transform(data, context) -> the new data."""

    def __init__(self, name, function):
        self.name, self.function = name, function

    def transform(self, data, context):
        return self.function(data, context)


def _positive_integer(data, _):
    value = data.get("id")
    return isinstance(value, (int, float)) and value > 0 and value % 1 == 0


def _non_negative(data, _):
    value = data.get("amount")
    return isinstance(value, (int, float)) and value >= 0


def _email(data, _):
    value = data.get("email")
    return isinstance(value, str) and EMAIL.match(value) is not None


def _add_tax(data, context):
    data["amount_with_tax"] = int(data["amount"] * (1 + context.variables["tax_rate"]) * 100 + 0.5) / 100
    return data


def _upper_country(data, _):
    data["country"] = data["country"].upper()
    return data


class StateInstance:
    __slots__ = ("id", "name", "data", "status", "arcs", "entered")

    def __init__(self, name, data):
        self.id = str(uuid.uuid4())
        self.name, self.data, self.status, self.arcs = name, data, "active", []
        self.entered = time.time()


class ExecutionContext:
    def __init__(self, data, variables):
        self.data_mode = "copy"
        self.variables = variables
        self.data = data
        self.current_state = None
        self.path = []
        self.network_stack = [("main", None)]
        self.instances = []
        self.error = None


STATES = {
    "validate": {
        "validators": [
            Validator("positive_integer", _positive_integer, "id must be a positive integer"),
            Validator("non_negative", _non_negative, "amount must be a number >= 0"),
            Validator("email", _email, "email is not an address"),
        ],
        "transforms": [],
    },
    "enrich": {"validators": [], "transforms": [Transform("add_tax", _add_tax), Transform("upper", _upper_country)]},
    "big": {"validators": [], "transforms": []},
    "small": {"validators": [], "transforms": []},
}
END_STATES = {"big", "small"}


class DataknobsLikeFsm:
    """One transitions machine (reset to `validate` per record) driving the states above
    with a fresh ExecutionContext per record."""

    def __init__(self, variables=VARS):
        self.variables = variables
        self.context = None
        self.machine = Machine(
            model=self, states=["validate", "enrich", "big", "small"], initial="validate",
            transitions=[
                {"trigger": "next", "source": "validate", "dest": "enrich"},
                {"trigger": "next", "source": "enrich", "dest": "big", "conditions": "is_big"},
                {"trigger": "next", "source": "enrich", "dest": "small"},
            ],
            after_state_change="record_arc", auto_transitions=False)

    def is_big(self):
        return self.context.data["amount_with_tax"] >= self.variables["big_amount"]

    def record_arc(self):
        context = self.context
        context.instances[-1].arcs.append({"to": self.state, "time": time.time()})

    def _run_state(self, name):
        """Enters a state: a deep copy of the data (COPY mode), its validators and
        transforms on the copy, committed when all pass."""
        context = self.context
        instance = StateInstance(name, copy.deepcopy(context.data))
        context.instances.append(instance)
        context.current_state = name
        context.path.append(name)
        state = STATES[name]
        for validator in state["validators"]:
            result = validator.validate(instance.data, context)
            if not result.valid:
                instance.status = "failed"
                context.error = {"name": "ValidationFailed", "message": result.error, "state": name}
                return False
        for transform in state["transforms"]:
            instance.data = transform.transform(instance.data, context)
        instance.status = "completed"
        context.data = instance.data
        return True

    def process(self, record):
        self.context = ExecutionContext(dict(record), self.variables)
        self.machine.set_state("validate")
        while self._run_state(self.state) and self.state not in END_STATES:
            self.next()
        context = self.context
        return {
            "success": context.error is None,
            "final_state": context.current_state,
            "data": context.data,
            "path": context.path,
            "error": context.error,
        }
