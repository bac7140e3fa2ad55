package rank

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

// reference is the brute-force model: a map and a full sort per question.
type reference struct {
	order Order
	m     map[string]Entry
}

// before is the documented tie order, written independently of Index.Less.
func (r *reference) before(a, b Entry) bool {
	switch {
	case a.Score != b.Score && r.order == Desc:
		return a.Score > b.Score
	case a.Score != b.Score:
		return a.Score < b.Score
	case a.Updated != b.Updated:
		return a.Updated < b.Updated
	default:
		return a.ID < b.ID
	}
}

func (r *reference) sorted() []Entry {
	out := make([]Entry, 0, len(r.m))
	for _, e := range r.m {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return r.before(out[i], out[j]) })
	return out
}

func (r *reference) apply(op Op, id string, value, updated int64) {
	cur, ok := r.m[id]
	if !ok {
		r.m[id] = Entry{ID: id, Score: value, Updated: updated}
		return
	}
	better := (r.order == Desc && value > cur.Score) || (r.order == Asc && value < cur.Score)
	switch {
	case op == Best && better:
		cur = Entry{id, value, updated}
	case op == Best && value == cur.Score && updated < cur.Updated:
		cur.Updated = updated
	case op == Set && (updated > cur.Updated || updated == cur.Updated && value > cur.Score):
		cur = Entry{id, value, updated}
	case op == Increment:
		cur.Score += value
		if updated > cur.Updated {
			cur.Updated = updated
		}
	}
	r.m[id] = cur
}

func check(t *testing.T, step int, x *Index, ref *reference, rng *rand.Rand) {
	t.Helper()
	want := ref.sorted()
	if x.Len() != len(want) {
		t.Fatalf("step %d: len %d, want %d", step, x.Len(), len(want))
	}
	var got []Entry
	x.Each(func(e Entry) bool { got = append(got, e); return true })
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("step %d: rank %d is %+v, want %+v", step, i+1, got[i], want[i])
		}
		if r, ok := x.Rank(want[i].ID); !ok || r != i+1 {
			t.Fatalf("step %d: Rank(%s) = %d %v, want %d", step, want[i].ID, r, ok, i+1)
		}
		if e, ok := x.At(i + 1); !ok || e != want[i] {
			t.Fatalf("step %d: At(%d) = %+v, want %+v", step, i+1, e, want[i])
		}
	}
	if _, ok := x.At(len(want) + 1); ok {
		t.Fatalf("step %d: At past the end answered", step)
	}
	if _, ok := x.At(0); ok {
		t.Fatalf("step %d: At(0) answered", step)
	}
	// A random page and a random cursor key.
	from, n := rng.IntN(len(want)+2), rng.IntN(12)
	page := x.Range(from, n)
	start := max(from, 1) - 1
	end := min(start+n, len(want))
	if start > len(want) {
		start = len(want)
	}
	if end < start {
		end = start
	}
	if len(page) != end-start {
		t.Fatalf("step %d: Range(%d,%d) has %d entries, want %d", step, from, n, len(page), end-start)
	}
	for i := range page {
		if page[i] != want[start+i] {
			t.Fatalf("step %d: Range(%d,%d)[%d] = %+v, want %+v", step, from, n, i, page[i], want[start+i])
		}
	}
	key := Entry{ID: fmt.Sprintf("p%03d", rng.IntN(300)), Score: rng.Int64N(40) - 20, Updated: rng.Int64N(8)}
	cnt := 0
	for _, e := range want {
		if ref.before(e, key) {
			cnt++
		}
	}
	if got := x.CountBefore(key); got != cnt {
		t.Fatalf("step %d: CountBefore(%+v) = %d, want %d", step, key, got, cnt)
	}
	// A cursor page resumes strictly after its key, whether or not the key
	// is still ranked; half the time the key is a ranked entry.
	if len(want) > 0 && rng.IntN(2) == 0 {
		key = want[rng.IntN(len(want))]
	}
	var rest []Entry
	for _, e := range want {
		if ref.before(key, e) {
			rest = append(rest, e)
		}
	}
	page, first, more := x.After(&key, n)
	if first != len(want)-len(rest)+1 || more != (len(rest) > n) || len(page) != min(n, len(rest)) {
		t.Fatalf("step %d: After(%+v,%d) = %d entries from %d more=%v; %d remain", step, key, n, len(page), first, more, len(rest))
	}
	for i := range page {
		if page[i] != rest[i] {
			t.Fatalf("step %d: After(%+v,%d)[%d] = %+v, want %+v", step, key, n, i, page[i], rest[i])
		}
	}
}

// TestMatchesReference drives the index and the brute-force model with the
// same random operations (every operator, deletes, resets, heavy ties from a
// small score and time range) and compares every rank after each step.
func TestMatchesReference(t *testing.T) {
	for _, order := range []Order{Desc, Asc} {
		for seed := uint64(1); seed <= 4; seed++ {
			t.Run(fmt.Sprintf("order=%d/seed=%d", order, seed), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(seed, 0xA7011))
				x := New(order)
				ref := &reference{order: order, m: map[string]Entry{}}
				const steps = 4000
				for step := range steps {
					id := fmt.Sprintf("p%03d", rng.IntN(300))
					// Small ranges make equal scores and equal times common.
					value, updated := rng.Int64N(40)-20, rng.Int64N(8)
					switch k := rng.IntN(100); {
					case k < 25:
						x.Apply(Best, id, value, updated)
						ref.apply(Best, id, value, updated)
					case k < 50:
						x.Apply(Set, id, value, updated)
						ref.apply(Set, id, value, updated)
					case k < 75:
						x.Apply(Increment, id, value, updated)
						ref.apply(Increment, id, value, updated)
					case k < 85:
						e := Entry{ID: id, Score: value, Updated: updated}
						x.Upsert(e)
						ref.m[id] = e
					case k < 99:
						_, had := ref.m[id]
						if got := x.Delete(id); got != had {
							t.Fatalf("step %d: Delete(%s) = %v, want %v", step, id, got, had)
						}
						delete(ref.m, id)
					default:
						x.Clear()
						clear(ref.m)
					}
					if step%7 == 0 || step == steps-1 {
						check(t, step, x, ref, rng)
					}
				}
			})
		}
	}
}

// TestTieOrder pins the documented tie order with named cases.
func TestTieOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order Order
		in    []Entry
		want  []string
	}{
		{"desc: higher score first", Desc, []Entry{{"a", 1, 0}, {"b", 3, 0}, {"c", 2, 0}}, []string{"b", "c", "a"}},
		{"asc: lower score first", Asc, []Entry{{"a", 1, 0}, {"b", 3, 0}, {"c", 2, 0}}, []string{"a", "c", "b"}},
		{"desc tie: earlier updated first", Desc, []Entry{{"a", 5, 9}, {"b", 5, 2}, {"c", 5, 4}}, []string{"b", "c", "a"}},
		{"asc tie: earlier updated first too", Asc, []Entry{{"a", 5, 9}, {"b", 5, 2}, {"c", 5, 4}}, []string{"b", "c", "a"}},
		{"full tie: smaller id first", Desc, []Entry{{"zed", 5, 1}, {"amy", 5, 1}, {"kim", 5, 1}}, []string{"amy", "kim", "zed"}},
		{"full tie asc: smaller id first", Asc, []Entry{{"zed", 5, 1}, {"amy", 5, 1}, {"kim", 5, 1}}, []string{"amy", "kim", "zed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			x := New(tc.order)
			for _, e := range tc.in {
				x.Upsert(e)
			}
			var got []string
			x.Each(func(e Entry) bool { got = append(got, e.ID); return true })
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("order %v, want %v", got, tc.want)
			}
		})
	}
}

// TestCombine pins each operator's score and Updated with named cases.
func TestCombine(t *testing.T) {
	cur := Entry{ID: "a", Score: 10, Updated: 5}
	for _, tc := range []struct {
		name    string
		order   Order
		op      Op
		value   int64
		at      int64
		want    Entry
		changed bool
	}{
		{"best desc not beaten", Desc, Best, 7, 9, cur, false},
		{"best desc equal later keeps the earlier time", Desc, Best, 10, 9, cur, false},
		{"best desc equal earlier takes the earlier time", Desc, Best, 10, 2, Entry{"a", 10, 2}, true},
		{"best desc beaten", Desc, Best, 12, 9, Entry{"a", 12, 9}, true},
		{"best asc beaten", Asc, Best, 7, 9, Entry{"a", 7, 9}, true},
		{"best asc not beaten", Asc, Best, 12, 9, cur, false},
		{"set by a later result", Desc, Set, 3, 9, Entry{"a", 3, 9}, true},
		{"set same value later moves the time", Desc, Set, 10, 9, Entry{"a", 10, 9}, true},
		{"set by an older result is ignored", Desc, Set, 3, 2, cur, false},
		{"set at the same time keeps the greater value", Desc, Set, 3, 5, cur, false},
		{"set at the same time, greater value", Desc, Set, 30, 5, Entry{"a", 30, 5}, true},
		{"increment zero moves the time", Desc, Increment, 0, 9, Entry{"a", 10, 9}, true},
		{"increment zero by an older result", Desc, Increment, 0, 2, cur, false},
		{"increment", Asc, Increment, 4, 9, Entry{"a", 14, 9}, true},
		{"increment by an older result keeps the latest time", Desc, Increment, 4, 2, Entry{"a", 14, 5}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, changed := Combine(tc.order, tc.op, cur, true, "a", tc.value, tc.at)
			if got != tc.want || changed != tc.changed {
				t.Fatalf("Combine = %+v %v, want %+v %v", got, changed, tc.want, tc.changed)
			}
		})
	}
}

// TestOrderIndependent: the same results applied in any order (a replay, a
// late delivery after an outage) give the same board, for every operator.
func TestOrderIndependent(t *testing.T) {
	type result struct {
		id             string
		value, updated int64
	}
	for _, order := range []Order{Desc, Asc} {
		for _, op := range []Op{Best, Set, Increment} {
			rng := rand.New(rand.NewPCG(uint64(op), uint64(order)))
			var rs []result
			for range 2000 {
				rs = append(rs, result{fmt.Sprintf("p%02d", rng.IntN(50)), rng.Int64N(20) - 5, rng.Int64N(30)})
			}
			build := func() []Entry {
				x := New(order)
				for _, r := range rs {
					x.Apply(op, r.id, r.value, r.updated)
				}
				var out []Entry
				x.Each(func(e Entry) bool { out = append(out, e); return true })
				return out
			}
			want := build()
			for range 5 {
				rng.Shuffle(len(rs), func(i, j int) { rs[i], rs[j] = rs[j], rs[i] })
				if got := build(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("order %d op %d: a shuffled replay differs:\n%v\n%v", order, op, got, want)
				}
			}
		}
	}
}

// TestDeepTree drives a tree several levels deep (inner nodes split and
// empty out) against the model: many ids, bulk inserts then deletes of most
// of them, with sampled checks throughout and full checks at the turns.
func TestDeepTree(t *testing.T) {
	for _, order := range []Order{Desc, Asc} {
		rng := rand.New(rand.NewPCG(11, uint64(order)))
		x := New(order)
		ref := &reference{order: order, m: map[string]Entry{}}
		const ids = 30000
		phase := func(steps, deletePct int) {
			for range steps {
				id := fmt.Sprintf("p%05d", rng.IntN(ids))
				if rng.IntN(100) < deletePct {
					x.Delete(id)
					delete(ref.m, id)
					continue
				}
				e := Entry{ID: id, Score: rng.Int64N(500), Updated: rng.Int64N(50)}
				x.Upsert(e)
				ref.m[id] = e
			}
			want := ref.sorted()
			if x.Len() != len(want) {
				t.Fatalf("order %d: len %d, want %d", order, x.Len(), len(want))
			}
			i := 0
			x.Each(func(e Entry) bool {
				if e != want[i] {
					t.Fatalf("order %d: rank %d is %+v, want %+v", order, i+1, e, want[i])
				}
				i++
				return true
			})
			for range 2000 {
				k := rng.IntN(len(want) + 1)
				if k == len(want) {
					continue
				}
				if r, ok := x.Rank(want[k].ID); !ok || r != k+1 {
					t.Fatalf("order %d: Rank(%s) = %d, want %d", order, want[k].ID, r, k+1)
				}
				if e, ok := x.At(k + 1); !ok || e != want[k] {
					t.Fatalf("order %d: At(%d) = %+v, want %+v", order, k+1, e, want[k])
				}
				page := x.Range(k+1, 5)
				for j := range page {
					if page[j] != want[k+j] {
						t.Fatalf("order %d: Range(%d)[%d] = %+v, want %+v", order, k+1, j, page[j], want[k+j])
					}
				}
			}
		}
		phase(100000, 5)  // grow to ~30,000 entries: three levels
		phase(150000, 95) // shrink: leaves and inner nodes empty out
		phase(100000, 30) // grow again into the sparse tree
	}
}
