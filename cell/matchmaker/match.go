package matchmaker

// Match is a group of tickets a Pass removed from the queue to play
// together. The caller gives it an id when it allocates a game server; if
// allocation fails it can Add the Tickets back unchanged and they keep their
// place at the front of the queue.
type Match struct {
	Mode string `json:"mode"`
	// Teams lists the teams; a free-for-all has one team per player, and a
	// free-for-all started below MaxPlayers has fewer teams than Mode.Teams.
	Teams []Team `json:"teams"`
	// Tickets are the matched tickets as they were queued, in rating order.
	Tickets []Ticket `json:"tickets"`
	// MeanRating is the mean rating of all players in the match, the centre
	// every ticket's rating window was checked against.
	MeanRating float64 `json:"mean_rating"`
}

// Team is one side of a match; parties are never split across teams.
type Team struct {
	Players []Slot `json:"players"`
	// RatingSum is the sum of the team's player ratings, the figure team
	// balancing evens out.
	RatingSum float64 `json:"rating_sum"`
}

// Slot is one player's place in a match.
type Slot struct {
	TicketID string  `json:"ticket_id"`
	PlayerID string  `json:"player_id"`
	Rating   float64 `json:"rating"`
}

// PassResult is what one Pass removed from the queue.
type PassResult struct {
	// Matches are in formation order: the match of the oldest anchor first.
	Matches []Match
	// TimedOut are tickets that waited QueueTimeout or longer, oldest first.
	TimedOut []Ticket
}
