package handler

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// populate fills a request struct: two items in every array (recursively),
// "x" in every string, 1 in every number.
func populate(v reflect.Value, depth int) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Name != "Version" {
				populate(v.Field(i), depth+1)
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 || depth > 8 {
			return
		}
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for j := range 2 {
			populate(s.Index(j), depth+1)
		}
		v.Set(s)
	case reflect.String:
		v.SetString("x")
	case reflect.Pointer:
		if v.Type().Elem().Kind() == reflect.String {
			s := "x"
			v.Set(reflect.ValueOf(&s))
		}
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Array:
		v.Index(0).SetUint(1)
	}
}

// errorCodes lists every ErrorCode field of a response, by path; item
// says whether the field is inside an array item.
type errorCodeAt struct {
	path string
	code int16
	item bool
}

func errorCodes(v reflect.Value, path string, item bool, out *[]errorCodeAt) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Name == "ErrorCode" {
				*out = append(*out, errorCodeAt{path + ".ErrorCode", int16(v.Field(i).Int()), item})
			}
			errorCodes(v.Field(i), path+"."+f.Name, item, out)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Struct {
			for j := range v.Len() {
				errorCodes(v.Index(j), fmt.Sprintf("%s[%d]", path, j), true, out)
			}
		}
	}
}

// noErrorField lists the API versions whose response has no error code at
// all; Kafka's error response for them is empty too.
var noErrorField = map[string]bool{
	"DescribeLogDirs v0": true, "DescribeLogDirs v1": true, "DescribeLogDirs v2": true,
}

// TestErrorResponseEveryAPI: for every API the table serves, at every
// version, the error response encodes and decodes at that version and
// the client finds UNKNOWN_SERVER_ERROR in it: at the top level or in
// every item mirrored from the request.
func TestErrorResponseEveryAPI(t *testing.T) {
	for key, a := range apis() {
		if a.handle == nil {
			continue
		}
		for v := a.min; v <= a.max; v++ {
			name := fmt.Sprintf("%s v%d", kmsg.NameForKey(int16(key)), v)
			t.Run(name, func(t *testing.T) {
				req := kmsg.RequestForKey(int16(key))
				populate(reflect.ValueOf(req).Elem(), 0)
				req.SetVersion(v)
				resp := errorResponse(req, kerr.UnknownServerError)
				if resp.Key() != req.Key() || resp.GetVersion() != v {
					t.Fatalf("response %T v%d", resp, resp.GetVersion())
				}
				dec := req.ResponseKind()
				dec.SetVersion(v)
				if err := dec.ReadFrom(resp.AppendTo(nil)); err != nil {
					t.Fatalf("decode the encoded error response: %v", err)
				}
				var codes []errorCodeAt
				errorCodes(reflect.ValueOf(dec).Elem(), "", false, &codes)
				seen := 0
				for _, c := range codes {
					switch {
					case c.code == kerr.UnknownServerError.Code:
						seen++
					case c.item: // items exist only where mirrored
						t.Errorf("%s = %d", c.path, c.code)
					case c.code != 0: // 0: not in this version
						t.Errorf("%s = %d", c.path, c.code)
					}
				}
				if seen == 0 && !noErrorField[name] {
					t.Errorf("no UNKNOWN_SERVER_ERROR in the decoded response: %+v", codes)
				}
			})
		}
	}
}

func ptr(s string) *string { return &s }

// TestErrorResponseMirrorsItems: items keep the names of what they are
// about, including request arrays of plain values and arrays the response
// names differently.
func TestErrorResponseMirrorsItems(t *testing.T) {
	unknown := kerr.UnknownServerError.Code
	tests := []struct {
		name  string
		req   kmsg.Request
		check func(kmsg.Response) bool
	}{
		{"produce partitions", &kmsg.ProduceRequest{Version: 9, Topics: []kmsg.ProduceRequestTopic{{Topic: "t",
			Partitions: []kmsg.ProduceRequestTopicPartition{{Partition: 3}, {Partition: 5}}}}},
			func(r kmsg.Response) bool {
				ps := r.(*kmsg.ProduceResponse).Topics[0].Partitions
				return r.(*kmsg.ProduceResponse).Topics[0].Topic == "t" && len(ps) == 2 &&
					ps[0].Partition == 3 && ps[1].Partition == 5 && ps[1].ErrorCode == unknown
			}},
		{"offset fetch v1: partitions as []int32", &kmsg.OffsetFetchRequest{Version: 1, Group: "g",
			Topics: []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{7}}}},
			func(r kmsg.Response) bool {
				p := r.(*kmsg.OffsetFetchResponse).Topics[0].Partitions[0]
				return p.Partition == 7 && p.ErrorCode == unknown
			}},
		{"offset fetch v8: groups", &kmsg.OffsetFetchRequest{Version: 8, Groups: []kmsg.OffsetFetchRequestGroup{{Group: "g"}}},
			func(r kmsg.Response) bool {
				g := r.(*kmsg.OffsetFetchResponse).Groups
				return len(g) == 1 && g[0].Group == "g" && g[0].ErrorCode == unknown
			}},
		{"describe groups: []string", &kmsg.DescribeGroupsRequest{Groups: []string{"a", "b"}},
			func(r kmsg.Response) bool {
				g := r.(*kmsg.DescribeGroupsResponse).Groups
				return len(g) == 2 && g[0].Group == "a" && g[1].Group == "b" && g[1].ErrorCode == unknown
			}},
		{"find coordinator v4: keys", &kmsg.FindCoordinatorRequest{Version: 4, CoordinatorKeys: []string{"g"}},
			func(r kmsg.Response) bool {
				c := r.(*kmsg.FindCoordinatorResponse).Coordinators
				return len(c) == 1 && c[0].Key == "g" && c[0].ErrorCode == unknown
			}},
		{"find coordinator v0: top level", &kmsg.FindCoordinatorRequest{CoordinatorKey: "g"},
			func(r kmsg.Response) bool { return r.(*kmsg.FindCoordinatorResponse).ErrorCode == unknown }},
		{"delete topics v0: names", &kmsg.DeleteTopicsRequest{TopicNames: []string{"t"}},
			func(r kmsg.Response) bool {
				ts := r.(*kmsg.DeleteTopicsResponse).Topics
				return len(ts) == 1 && *ts[0].Topic == "t" && ts[0].ErrorCode == unknown
			}},
		{"delete topics v6", &kmsg.DeleteTopicsRequest{Version: 6, Topics: []kmsg.DeleteTopicsRequestTopic{{Topic: ptr("t")}}},
			func(r kmsg.Response) bool {
				ts := r.(*kmsg.DeleteTopicsResponse).Topics
				return len(ts) == 1 && *ts[0].Topic == "t" && ts[0].ErrorCode == unknown
			}},
		{"describe transactions: ids", &kmsg.DescribeTransactionsRequest{TransactionalIDs: []string{"tx"}},
			func(r kmsg.Response) bool {
				s := r.(*kmsg.DescribeTransactionsResponse).TransactionStates
				return len(s) == 1 && s[0].TransactionalID == "tx" && s[0].ErrorCode == unknown
			}},
		{"list offsets: the request's timestamp is not copied", &kmsg.ListOffsetsRequest{Version: 1,
			Topics: []kmsg.ListOffsetsRequestTopic{{Topic: "t", Partitions: []kmsg.ListOffsetsRequestTopicPartition{{Partition: 1, Timestamp: 99}}}}},
			func(r kmsg.Response) bool {
				p := r.(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0]
				return p.Partition == 1 && p.Timestamp == -1 && p.ErrorCode == unknown
			}},
		{"create acls: a result per creation", &kmsg.CreateACLsRequest{Creations: make([]kmsg.CreateACLsRequestCreation, 2)},
			func(r kmsg.Response) bool {
				rs := r.(*kmsg.CreateACLsResponse).Results
				return len(rs) == 2 && rs[1].ErrorCode == unknown
			}},
		{"update features: a result per feature", &kmsg.UpdateFeaturesRequest{FeatureUpdates: []kmsg.UpdateFeaturesRequestFeatureUpdate{{Feature: "f"}}},
			func(r kmsg.Response) bool {
				u := r.(*kmsg.UpdateFeaturesResponse)
				return u.ErrorCode == unknown && len(u.Results) == 1 && u.Results[0].Feature == "f" && u.Results[0].ErrorCode == unknown
			}},
		{"join group: top level", &kmsg.JoinGroupRequest{Group: "g", MemberID: "m"},
			func(r kmsg.Response) bool {
				j := r.(*kmsg.JoinGroupResponse)
				return j.ErrorCode == unknown && j.MemberID == "" && j.Generation == -1
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if resp := errorResponse(tt.req, kerr.UnknownServerError); !tt.check(resp) {
				t.Errorf("error response %+v", resp)
			}
		})
	}
}
