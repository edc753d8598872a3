package main

func runScale(cfg config, t *table) error    { return nil }
func runTriggers(cfg config, t *table) error { return nil }
func runExpr(cfg config, t *table) error     { return nil }
func runSSH(cfg config, t *table) error      { return nil }
func serveTriggers(n int) error              { return nil }
func runScaleChild(n int) error              { return nil }
