package httpx

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

// TestParseErrorReadsWriteError: what WriteError writes, ParseError reads
// back, and a body that is not an envelope keeps only its status.
func TestParseErrorReadsWriteError(t *testing.T) {
	for _, err := range []error{
		Conflict(CodeAlreadyExists, "username taken"),
		&Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Message: "bad", Details: map[string]any{"field": "name"}},
		errors.New("secret internal detail"),
	} {
		rec := httptest.NewRecorder()
		WriteError(rec, err)
		got := ParseError(rec.Code, rec.Body.Bytes())
		want := &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
		var he *Error
		if errors.As(err, &he) {
			want = &Error{Status: he.Status, Code: he.Code, Message: he.Message, Details: he.Details}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseError(WriteError(%v)) = %+v, want %+v", err, got, want)
		}
	}
	for _, body := range []string{"<html>bad gateway</html>", "", `{"error":"flat"}`} {
		if got := ParseError(http.StatusBadGateway, []byte(body)); got.Status != http.StatusBadGateway || got.Code != "" || got.Message != "" {
			t.Errorf("ParseError(%q) = %+v, want status only", body, got)
		}
	}
}
