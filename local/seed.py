"""Writes the reference data (plans, risk profiles, strategies; the API reference's own ids) into a table.

The same code seeds the local stack at start-up and a deployed stage (``make seed STAGE=dev``); writes
are idempotent puts, so seeding twice changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE_DATA = Path(__file__).with_name("reference_data.json")


@dataclass(frozen=True)
class SeedResult:
    plans: int
    risk_profiles: int
    strategies: int


def seed_reference_data() -> SeedResult:
    """Seeds the table named by the current settings (``TABLE_NAME``) through the catalog repository."""
    from core.models.catalog import Plan, RiskProfile, Strategy
    from core.repositories.catalog import CatalogRepository

    data = json.loads(REFERENCE_DATA.read_text())
    catalog = CatalogRepository()
    for plan in data["plans"]:
        catalog.put_plan(Plan(**plan))
    for profile in data["risk_profiles"]:
        catalog.put_risk_profile(RiskProfile(**profile))
    for strategy in data["strategies"]:
        catalog.put_strategy(Strategy(**strategy))
    return SeedResult(len(data["plans"]), len(data["risk_profiles"]), len(data["strategies"]))


def seed_signal_secrets(stage: str, secrets_manager: Any = None) -> int:
    """Gives each reference strategy its signal secret in Secrets Manager, unless it has one (rotate with
    ``aws secretsmanager put-secret-value``; the README says how). Returns how many were created."""
    import secrets

    import boto3

    from core.signal_secrets import secret_name

    client = secrets_manager or boto3.client("secretsmanager")
    created = 0
    for strategy in json.loads(REFERENCE_DATA.read_text())["strategies"]:
        try:
            client.create_secret(
                Name=secret_name(stage, strategy["id"]),
                Description=f"Signal secret of strategy {strategy['name']}",
                SecretString=secrets.token_urlsafe(32),
            )
            created += 1
        except client.exceptions.ResourceExistsException:
            continue
    return created


def stage_of_table(table_name: str) -> str:
    """``trading-api-<stage>-main`` is the stage's main table (template.yaml names it so)."""
    return table_name.removeprefix("trading-api-").removesuffix("-main")


def table_name_of_stack(stack_name: str, region: str | None = None) -> str:
    import boto3

    stack = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)[
        "Stacks"
    ][0]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    return outputs["MainTableName"]
