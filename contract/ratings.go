package contract

// RatingsPath is the core's ratings read API for cells: GET with query
// parameters mode and player_id (repeated).
const RatingsPath = "/internal/v1/ratings"

// MaxRatingsPerRequest bounds one ratings lookup: a cell asks for one
// ticket's party or, at most, one full lobby (100 players).
const MaxRatingsPerRequest = 100

// Rating is one player's rating in one mode.
type Rating struct {
	PlayerID string  `json:"player_id"`
	Rating   float64 `json:"rating"`
	Games    int     `json:"games"`
}

// RatingsResponse is the body of GET /internal/v1/ratings. Players without a
// rating in the mode are absent: the cell applies its default.
type RatingsResponse struct {
	Mode    string   `json:"mode"`
	Ratings []Rating `json:"ratings"`
}
