"""City dashboard data (数据看板): KPIs, volumes, trends and mixes as SQL aggregates over work orders."""
