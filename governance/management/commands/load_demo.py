"""Load the 长江瑞城 demo (`load_demo`), or N benchmark streets (`load_demo --scale N`)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from governance.demo import COMPOUND_NAME, demo_is_loaded, demo_load
from governance.demo_scale import SHAPES, scale_load


class Command(BaseCommand):
    help = "加载长江瑞城演示数据；--scale N 生成 N 个街道的压测数据。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--if-empty", action="store_true",
                            help="演示数据已存在时什么也不做（make run 用）。")
        parser.add_argument("--scale", type=int, metavar="N",
                            help="生成 N 个形如演示的街道（每街道 12,000 户）。")
        parser.add_argument("--seed", type=int, default=20240515, help=argparse.SUPPRESS)
        # Tests shrink the scale shape; not for people.
        parser.add_argument("--shape", choices=sorted(SHAPES), default="demo",
                            help=argparse.SUPPRESS)
        parser.add_argument("--no-progress", action="store_true", help="不显示进度条。")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["scale"] is not None:
            self._scale(options)
            return
        if demo_is_loaded():
            if options["if_empty"]:
                self.stdout.write("demo already loaded（演示数据已存在，保留不动）")
                return
            raise CommandError("演示数据已存在（demo already loaded）；保留数据请加 --if-empty。")
        self.stdout.write(f"加载演示数据：{COMPOUND_NAME} …")
        state = demo_load(stdout=self.stdout, seed=options["seed"])
        self.stdout.write(self.style.SUCCESS(
            f"演示数据已加载：{len(state.buildings)} 栋楼、{len(state.households)} 户、"
            f"{len(state.residents)} 名居民、{len(state.party_residents)} 名党员。"
        ))
        if state.api_key_raw:
            self.stdout.write(
                f"12345 热线 API key（只显示这一次 / shown once）：{state.api_key_raw}")

    def _scale(self, options: dict[str, Any]) -> None:
        streets = options["scale"]
        if streets < 1:
            raise CommandError("--scale 必须是正整数。")
        shape = SHAPES[options["shape"]]
        self.stdout.write(f"生成 {streets} 个街道，每街道 {shape.households:,} 户 …")
        result = scale_load(streets=streets, shape=shape, stdout=self.stderr,
                            show_progress=not options["no_progress"])
        cpu = f"CPU: Python {result.python_cpu_seconds:.1f} s"
        if result.database_cpu_seconds is not None:
            cpu += f", PostgreSQL backend {result.database_cpu_seconds:.1f} s"
        self.stdout.write(f"{cpu} (load average {os.getloadavg()[0]:.1f})")
        self.stdout.write(
            f"households created: {result.households:,} (residents {result.residents:,}) "
            f"in {result.seconds:.1f} s = {result.households_per_second:,.0f} households/s"
        )
