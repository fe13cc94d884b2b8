package alert

import (
	api "github.com/openwatch/openwatch/gen/api"
)

func toAPIConfig(c Config) api.AlertsConfig {
	return api.AlertsConfig{ScoreDropPoints: c.ScoreDropPoints, ScoreFloorPercent: c.ScoreFloorPercent,
		FleetScoreDropPoints: c.FleetScoreDropPoints, FleetScoreFloorPercent: c.FleetScoreFloorPercent,
		FleetScoreWindowHours: c.FleetScoreWindowHours, ScanFailures: c.ScanFailures}
}

func fromAPIConfig(c api.AlertsConfig) Config {
	return Config{ScoreDropPoints: c.ScoreDropPoints, ScoreFloorPercent: c.ScoreFloorPercent,
		FleetScoreDropPoints: c.FleetScoreDropPoints, FleetScoreFloorPercent: c.FleetScoreFloorPercent,
		FleetScoreWindowHours: c.FleetScoreWindowHours, ScanFailures: c.ScanFailures}
}
