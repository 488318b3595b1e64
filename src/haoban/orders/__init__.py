"""12345 work orders (工单): intake, the lifecycle state table, deadlines, the case file (一事一档)."""
